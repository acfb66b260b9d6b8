/*
 * wardwatch console, users.js: console accounts (#/users, admins) — every account with
 * its role, departments and state; a new account (its password shown once); a role
 * change, disable or enable, a new password — and the signed-in user's own account
 * (#/account): a password change with the current one. The server checks every change
 * again and records it in the audit record.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, api = ww.api, str = ww.str;
  var showMessage = ww.showMessage, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, dataTable = ww.dataTable;
  var loadingRow = ww.loadingRow, fillTable = ww.fillTable, messageRow = ww.messageRow;
  var dateCell = ww.dateCell, state = ww.state, isArray = ww.isArray;

  var ROLES = [
    { id: 'admin', text: 'Admin: everything, settings and accounts included' },
    { id: 'analyst', text: 'Analyst: acts on alerts, incidents and scans' },
    { id: 'auditor', text: 'Auditor: reads everything, changes nothing' },
    { id: 'operator', text: 'Department operator: its departments\u2019 terminals only' }
  ];

  /* "Ward 3, Laboratory" as the list the API takes. */
  function departmentList(text) {
    return String(text || '').split(',').map(function (d) { return d.trim(); })
      .filter(function (d) { return d !== ''; });
  }

  /* The role chooser: with what each role may do (`long`), or its name only. */
  function roleSelect(id, selected, long) {
    var select = el('select', { id: id, title: 'Role' });
    ROLES.forEach(function (r) {
      var option = el('option', { value: r.id }, long ? r.text : r.id);
      if (r.id === selected) {
        option.selected = true;
      }
      select.appendChild(option);
    });
    return select;
  }

  function showUsers() {
    var view = beginView('users');
    setTitle('Accounts');
    var note = el('div', { id: 'users-status', className: 'form-note', role: 'status', hidden: true });
    var t = dataTable('users-table', [
      { label: 'User', className: 'shrink' },
      { label: 'Role', className: 'shrink' },
      { label: 'Departments' },
      { label: 'Created', className: 'shrink' },
      { label: 'State', className: 'shrink' },
      { label: 'Code', className: 'shrink', title: 'Logs in with a code of an authenticator app as well' },
      { label: 'Change' }
    ]);
    loadingRow(t, 'Loading the accounts');

    var name = el('input', { type: 'text', id: 'new-user-name', maxLength: 64, autocomplete: 'off' });
    var role = roleSelect('new-user-role', 'analyst', true);
    var departments = el('input', { type: 'text', id: 'new-user-departments', placeholder: 'Ward 3, Laboratory' });
    var create = el('button', { type: 'submit', className: 'btn btn-primary', id: 'new-user-create' }, 'Create account');
    var form = el('form', { id: 'new-user-form', className: 'form-grid' }, [
      el('label', { htmlFor: 'new-user-name' }, 'User name'), name,
      el('label', { htmlFor: 'new-user-role' }, 'Role'), role,
      el('label', { htmlFor: 'new-user-departments' }, 'Departments (operators; comma between)'), departments,
      el('span'), create
    ]);

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Accounts')]),
      note,
      t.table,
      el('section', { id: 'new-user' }, [el('h2', { className: 'panel-heading' }, 'New account'),
        el('p', { className: 'muted' }, 'The account gets a random password, shown here once: hand it over in person.'),
        form])
    ]);

    function answer(err, what) {
      if (err) {
        showMessage(note, what + ' failed: ' + err.message);
        return false;
      }
      return true;
    }

    function actions(u) {
      var cell = el('td', { className: 'actions' });
      var disabled = typeof u.disabled_at === 'number';
      var changeRole = roleSelect('role-' + u.username, u.role, false);
      var deps = el('input', { type: 'text', className: 'small', value: (u.departments || []).join(', '), placeholder: 'departments',
        title: 'Departments of an operator, comma between' });
      var save = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'role' }, 'Change role');
      save.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/role',
          { role: changeRole.value, departments: changeRole.value === 'operator' ? departmentList(deps.value) : [] },
          function (err) {
            if (view.alive() && answer(err, 'The role change')) {
              showMessage(note, u.username + ' is now an ' + changeRole.value + '; its sessions ended.');
              load();
            }
          });
      });
      var toggle = el('button', { type: 'button', className: 'btn btn-small', 'data-action': disabled ? 'enable' : 'disable' },
        disabled ? 'Enable' : 'Disable');
      toggle.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/disabled', { disabled: !disabled }, function (err) {
          if (view.alive() && answer(err, disabled ? 'Enabling' : 'Disabling')) {
            showMessage(note, u.username + (disabled ? ' can log in again.' : ' is disabled; its sessions ended.'));
            load();
          }
        });
      });
      var reset = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'password' }, 'New password');
      reset.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/password', {}, function (err, data) {
          if (view.alive() && answer(err, 'The new password')) {
            showMessage(note, 'New password for ' + u.username + ' (shown once): ' + str(data.password));
          }
        });
      });
      var removeCode = null;
      if (u.second_factor) {
        removeCode = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'remove-code',
          title: 'A lost phone: the account logs in with its password alone until it sets up a new code' }, 'Remove code');
        removeCode.addEventListener('click', function () {
          api('DELETE', '/api/users/' + encodeURIComponent(u.username) + '/second-factor', {}, function (err) {
            if (view.alive() && answer(err, 'Removing the code')) {
              showMessage(note, u.username + ' logs in with its password alone until it sets up a new code.');
              load();
            }
          });
        });
      }
      append(cell, [changeRole, deps, save, toggle, reset, removeCode]);
      return cell;
    }

    function row(u) {
      var disabled = typeof u.disabled_at === 'number';
      return el('tr', { className: 'user-row', 'data-user': str(u.username) }, [
        el('td', { className: 'shrink' }, str(u.username)),
        el('td', { className: 'shrink user-role' }, str(u.role)),
        el('td', { className: 'user-departments' }, (u.departments || []).join(', ') || '\u2014'),
        dateCell(u.created_at),
        el('td', { className: 'shrink user-state' }, disabled ? 'disabled' : 'active'),
        el('td', { className: 'shrink user-code' }, u.second_factor ? 'yes' : 'no'),
        actions(u)
      ]);
    }

    function load() {
      api('GET', '/api/users', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the accounts: ' + err.message);
          messageRow(t.tbody, t.columns, 'The accounts could not be loaded.', 'placeholder-row');
          return;
        }
        clearError();
        var list = isArray(data.users) ? data.users : [];
        var frag = document.createDocumentFragment();
        list.forEach(function (u) { frag.appendChild(row(u || {})); });
        fillTable(t, frag, list.length, 'No accounts.');
      });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      create.disabled = true;
      var body = { username: name.value.trim(), role: role.value,
        departments: role.value === 'operator' ? departmentList(departments.value) : [] };
      api('POST', '/api/users', body, function (err, data) {
        create.disabled = false;
        if (!view.alive() || !answer(err, 'Creating the account')) {
          return;
        }
        showMessage(note, 'Created ' + str(data.username) + '. Its password (shown once): ' + str(data.password));
        name.value = '';
        departments.value = '';
        load();
      });
    }, false);

    load();
  }

  /* The console's language for this user on this browser; the page follows at once. */
  function languageSelect() {
    var select = el('select', { id: 'language-choice' });
    [['', 'lang.auto'], ['en', 'lang.en'], ['zh', 'lang.zh']].forEach(function (o) {
      var option = el('option', { value: o[0] }, ww.t(o[1]));
      if (ww.i18n.chosen() === o[0]) {
        option.selected = true;
      }
      select.appendChild(option);
    });
    select.addEventListener('change', function () {
      ww.i18n.choose(select.value);
      ww.updateHeader();
      showAccount();
    }, false);
    return select;
  }

  function showAccount() {
    var view = beginView('account');
    setTitle('My account');
    var note = el('div', { id: 'account-status', className: 'form-note', role: 'status', hidden: true });
    var current = el('input', { type: 'password', id: 'current-password', autocomplete: 'current-password' });
    var next = el('input', { type: 'password', id: 'new-password', autocomplete: 'new-password', minLength: 12 });
    var again = el('input', { type: 'password', id: 'new-password-again', autocomplete: 'new-password' });
    var save = el('button', { type: 'submit', className: 'btn btn-primary', id: 'change-password' }, 'Change password');
    var form = el('form', { id: 'password-form', className: 'form-grid' }, [
      el('label', { htmlFor: 'current-password' }, 'Current password'), current,
      el('label', { htmlFor: 'new-password' }, 'New password (12 characters or more)'), next,
      el('label', { htmlFor: 'new-password-again' }, 'New password again'), again,
      el('span'), save
    ]);
    var factorNote = el('div', { id: 'second-factor-status', className: 'form-note', role: 'status', hidden: true });
    var factorState = el('p', { id: 'second-factor-state' }, state.secondFactor ?
      'On: you sign in with your password and a code of your authenticator app.' :
      'Off: you sign in with your password alone.');
    var setUp = el('button', { type: 'button', className: 'btn', id: 'second-factor-start' },
      state.secondFactor ? 'Set up a new code' : 'Set up a code');
    var secretBox = el('div', { id: 'second-factor-setup', hidden: true });
    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'My account')]),
      el('p', { id: 'account-role' }, str(state.user) + ' \u2014 ' + str(state.role) +
        (state.departments.length ? ' of ' + state.departments.join(', ') : '')),
      note,
      el('h2', { className: 'panel-heading' }, 'Password'),
      form,
      el('h2', { className: 'panel-heading' }, 'Sign-in code (second factor)'),
      factorState, factorNote, setUp, secretBox,
      el('h2', { className: 'panel-heading' }, ww.t('account.language')),
      el('p', { className: 'muted' }, ww.t('account.languageNote')),
      languageSelect()
    ]);

    setUp.addEventListener('click', function () {
      setUp.disabled = true;
      api('POST', '/api/me/second-factor', {}, function (err, data) {
        setUp.disabled = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showMessage(factorNote, 'Could not start: ' + err.message);
          return;
        }
        var code = el('input', { type: 'text', id: 'second-factor-code', inputMode: 'numeric', maxLength: 6,
          autocomplete: 'one-time-code' });
        var confirm = el('button', { type: 'submit', className: 'btn btn-primary', id: 'second-factor-confirm' }, 'Turn on');
        var confirmForm = el('form', { className: 'form-grid', id: 'second-factor-form' }, [
          el('label', { htmlFor: 'second-factor-code' }, 'Code the app shows now'), code, el('span'), confirm]);
        ww.clear(secretBox);
        append(secretBox, [
          el('p', null, 'Add this key to your authenticator app (time-based, 6 digits, 30 seconds), then enter the code it shows:'),
          el('p', null, el('code', { id: 'second-factor-secret' }, str(data.secret).replace(/(.{4})/g, '$1 ').trim())),
          el('p', { className: 'small muted' }, ['Or the address: ', el('code', { id: 'second-factor-url' }, str(data.url))]),
          confirmForm
        ]);
        ww.show(secretBox, true);
        confirmForm.addEventListener('submit', function (e) {
          e.preventDefault();
          confirm.disabled = true;
          api('POST', '/api/me/second-factor/confirm', { code: code.value.trim() }, function (cErr) {
            confirm.disabled = false;
            if (!view.alive()) {
              return;
            }
            if (cErr) {
              showMessage(factorNote, cErr.message);
              return;
            }
            state.secondFactor = true;
            ww.show(secretBox, false);
            ww.setText(factorState, 'On: you sign in with your password and a code of your authenticator app.');
            showMessage(factorNote, 'The sign-in code is on.');
          });
        }, false);
      });
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (next.value !== again.value) {
        showMessage(note, 'The two new passwords differ.');
        return;
      }
      save.disabled = true;
      api('POST', '/api/me/password', { current: current.value, new: next.value }, function (err) {
        save.disabled = false;
        if (!view.alive()) {
          return;
        }
        current.value = '';
        if (err) {
          showMessage(note, 'The password was not changed: ' + err.message);
          return;
        }
        next.value = '';
        again.value = '';
        showMessage(note, 'Password changed. Your other sessions have ended.');
      });
    }, false);
  }

  ww.views.users = showUsers;
  ww.views.account = showAccount;
}(wardwatch));
