/*
 * wardwatch console, login.js: the sign-in view (#/login) and signing out from the
 * header's button.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, setText = ww.setText, show = ww.show;
  var showMessage = ww.showMessage, trim = ww.trim, api = ww.api, state = ww.state;
  var beginView = ww.beginView, setTitle = ww.setTitle, navigate = ww.navigate;
  var updateHeader = ww.updateHeader, showError = ww.showError, ELLIPSIS = ww.ELLIPSIS;

  function showLogin() {
    var view = beginView('login');
    var errorBox, noteBox, username, password, code, codeField, submit, form;
    var t = ww.t;
    setTitle(t('login.title'));

    noteBox = el('div', { id: 'login-notice', className: 'form-note', hidden: true });
    errorBox = el('div', { id: 'login-error', className: 'form-error', role: 'alert', hidden: true });
    username = el('input', {
      id: 'username', name: 'username', type: 'text', autocomplete: 'username',
      autocapitalize: 'off', autocorrect: 'off', spellcheck: 'false', maxlength: 200
    });
    password = el('input', {
      id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
      maxlength: 1000
    });
    /* Asked for once the server says the account has a second factor. */
    code = el('input', {
      id: 'login-code', name: 'code', type: 'text', inputMode: 'numeric', autocomplete: 'one-time-code',
      maxlength: 6, pattern: '[0-9]*'
    });
    codeField = el('div', { className: 'field', id: 'login-code-field', hidden: true },
      [el('label', { 'for': 'login-code' }, t('login.code')), code]);
    submit = el('button', { id: 'login-submit', type: 'submit', className: 'btn btn-primary' }, t('login.submit'));
    form = el('form', { id: 'login-form', className: 'login-card', method: 'post', action: '#/login', novalidate: true }, [
      el('h1', null, t('login.title')),
      el('p', { className: 'sub' }, t('login.console')),
      noteBox,
      errorBox,
      el('div', { className: 'field' }, [el('label', { 'for': 'username' }, t('login.user')), username]),
      el('div', { className: 'field' }, [el('label', { 'for': 'password' }, t('login.password')), password]),
      codeField,
      submit
    ]);
    append(byId('app'), el('div', { className: 'login-wrap' }, form));

    if (state.loginNotice) {
      setText(noteBox, state.loginNotice);
      show(noteBox, true);
      state.loginNotice = '';
    }

    function loginError(message) {
      showMessage(errorBox, message);
    }

    form.addEventListener('submit', function (ev) {
      var name = trim(username.value);
      var pass = password.value;
      ev.preventDefault();
      if (submit.disabled) {
        return;
      }
      if (!name || !pass) {
        loginError(t('login.missing'));
        (name ? password : username).focus();
        return;
      }
      loginError('');
      show(noteBox, false);
      submit.disabled = true;
      setText(submit, t('login.signingIn') + ELLIPSIS);
      var body = { username: name, password: pass };
      if (!codeField.hidden && trim(code.value)) {
        body.code = trim(code.value);
      }
      api('POST', '/api/login', body, function (err, data) {
        var dest;
        if (!view.alive()) {
          return;
        }
        submit.disabled = false;
        setText(submit, t('login.submit'));
        if (err && err.status === 401 && err.data && err.data.code_needed === true) {
          show(codeField, true);
          loginError(err.message);
          code.value = '';
          code.focus();
          return;
        }
        if (err) {
          loginError(err.status === 401 && !err.message ? t('login.wrong') : err.message);
          code.value = '';
          password.value = '';
          password.focus();
          return;
        }
        state.user = data && data.username ? String(data.username) : name;
        dest = state.returnTo || '#/overview';
        state.returnTo = null;
        /* The login answer names the user; the role (what the views offer) comes from /api/me. */
        api('GET', '/api/me', null, function (meErr, me) {
          if (!view.alive()) {
            return;
          }
          if (!meErr) {
            ww.setAccount(me);
          }
          updateHeader();
          navigate(dest);
        });
      }, { allow401: true });
    }, false);

    username.focus();
  }

  function logout() {
    var button = byId('logout-button');
    button.disabled = true;
    api('POST', '/api/logout', {}, function (err) {
      button.disabled = false;
      if (err && err.status !== 401) {
        showError(ww.t('login.signOutFailed', { message: err.message }));
        return;
      }
      state.user = null;
      state.role = null;
      state.returnTo = null;
      state.loginNotice = ww.t('login.signedOut');
      updateHeader();
      navigate('#/login');
    }, { allow401: true });
  }

  ww.views.login = showLogin;
  ww.logout = logout;
}(wardwatch));
