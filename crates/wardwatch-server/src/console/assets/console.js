/*
 * wardwatch console: a one-page app over the console JSON API.
 *
 * Plain ES5 on purpose (no modules, no let/const, no arrow functions, no template
 * literals, no Promise, no fetch) so that the older browsers still found on hospital
 * terminals can run it. No external resources are loaded.
 *
 * Everything that comes from the API is outside data (host names, package names,
 * account names...): it is only ever inserted as DOM text nodes or attribute values,
 * never through innerHTML.
 *
 * Routes (location.hash):
 *   #/login              sign in
 *   #/hosts              host list
 *   #/hosts/ID           host page, packages tab
 *   #/hosts/ID/TAB       host page, TAB = packages | findings | malware | listeners | accounts | history
 *   #/alerts             alerts of every host, newest first
 *   #/alerts/ID          one alert: process, parent chain, every file
 *   #/bundles            offline bundles: installed per kind, upload, hosts' versions
 *   #/vulns              vulnerabilities of the fleet: feed, priorities, upgrades, findings
 *   #/vulns/advisory/ID  one CVE or advisory: evidence, hosts, accepted risks
 */
(function () {
  'use strict';

  var REFRESH_MS = 10000;
  var PACKAGE_PAGE_SIZE = 200;
  var HISTORY_LIMIT = 100;
  var ALERT_PAGE_SIZE = 100;
  var ALERT_LIST_PATHS = 3;      // file paths shown per alert in the list
  var ALERT_CMDLINE_CHARS = 160; // command line shown in the list, before an ellipsis
  var SEARCH_DELAY_MS = 300;
  var COMMAND_REFRESH_MS = 3000; // the Malware tab's command list, while the tab is open
  var REQUEST_TIMEOUT_MS = 20000;
  var TABS = [
    { id: 'packages', title: 'Packages' },
    { id: 'findings', title: 'Vulnerabilities' },
    { id: 'malware', title: 'Malware' },
    { id: 'listeners', title: 'Listening services' },
    { id: 'accounts', title: 'Accounts' },
    { id: 'history', title: 'History' }
  ];

  var ELLIPSIS = '\u2026';
  var DASH = '\u2014';
  var EN_DASH = '\u2013';

  var state = {
    booted: false,
    user: null,          // logged-in user name, null when signed out
    role: null,          // 'admin' or 'viewer' (from /api/me), null when not known
    returnTo: null,      // route to go back to after signing in
    loginNotice: '',     // shown above the login form (e.g. session ended)
    hostFilter: '',      // host list filter, kept while moving between pages
    vulnFilters: { priority: '', department: '', state: 'open', offset: 0 }, // findings list filters
    view: null,          // the view on screen: { name, token, cleanups, ... }
    viewToken: 0,
    clockSkew: 0         // server clock minus browser clock, in ms
  };

  /* ------------------------------------------------------------------ */
  /* DOM helpers: text is always inserted as text nodes.                 */
  /* ------------------------------------------------------------------ */

  function byId(id) {
    return document.getElementById(id);
  }

  function isArray(v) {
    return Object.prototype.toString.call(v) === '[object Array]';
  }

  function append(node, children) {
    var i, c;
    if (children === null || children === undefined || children === false) {
      return node;
    }
    if (!isArray(children)) {
      children = [children];
    }
    for (i = 0; i < children.length; i++) {
      c = children[i];
      if (c === null || c === undefined || c === false) {
        continue;
      }
      if (isArray(c)) {
        append(node, c);
        continue;
      }
      if (typeof c === 'string' || typeof c === 'number') {
        c = document.createTextNode(String(c));
      }
      node.appendChild(c);
    }
    return node;
  }

  /* el('a', {href: '#/x', className: 'y', onclick: fn}, ['text', otherNode]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var key, value;
    if (attrs) {
      for (key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key)) {
          continue;
        }
        value = attrs[key];
        if (value === null || value === undefined || value === false) {
          continue;
        }
        if (key === 'className') {
          node.className = value;
        } else if (key.length > 2 && key.substring(0, 2) === 'on' && typeof value === 'function') {
          node.addEventListener(key.substring(2), value, false);
        } else {
          node.setAttribute(key, value === true ? '' : String(value));
        }
      }
    }
    return append(node, children);
  }

  function clear(node) {
    while (node && node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function setText(node, text) {
    if (!node) {
      return;
    }
    clear(node);
    node.appendChild(document.createTextNode(text === null || text === undefined ? '' : String(text)));
  }

  function show(node, visible) {
    if (!node) {
      return;
    }
    if (visible) {
      node.removeAttribute('hidden');
    } else {
      node.setAttribute('hidden', '');
    }
  }

  function hasClass(node, cls) {
    return (' ' + node.className + ' ').indexOf(' ' + cls + ' ') >= 0;
  }

  function setClass(node, cls, on) {
    var has = hasClass(node, cls);
    if (on && !has) {
      node.className = node.className ? node.className + ' ' + cls : cls;
    } else if (!on && has) {
      node.className = (' ' + node.className + ' ').replace(' ' + cls + ' ', ' ').replace(/^\s+|\s+$/g, '');
    }
  }

  function closestWithClass(node, cls, stop) {
    while (node && node !== stop && node.nodeType === 1) {
      if (hasClass(node, cls)) {
        return node;
      }
      node = node.parentNode;
    }
    return null;
  }

  /* A value for display: empty strings and nulls become a muted dash. */
  function orDash(value) {
    if (value === null || value === undefined || value === '') {
      return el('span', { className: 'empty', title: 'not reported' }, DASH);
    }
    return String(value);
  }

  function str(value) {
    return value === null || value === undefined ? '' : String(value);
  }

  function trim(s) {
    return String(s).replace(/^\s+|\s+$/g, '');
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function formatCount(n) {
    if (typeof n !== 'number' || isNaN(n)) {
      return DASH;
    }
    /* thousands separator without relying on toLocaleString support */
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  /* ------------------------------------------------------------------ */
  /* Time                                                                */
  /* ------------------------------------------------------------------ */

  function now() {
    return new Date().getTime() + state.clockSkew;
  }

  function pad2(n) {
    return n < 10 ? '0' + n : String(n);
  }

  /* "2025-11-23 03:40:00", in the browser's time zone. */
  function shortDate(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) {
      return '';
    }
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
      pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }

  /* "2025-11-23 03:40:00 UTC+02:00", in the browser's time zone. */
  function fullDate(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) {
      return '';
    }
    var off = -new Date(ms).getTimezoneOffset();
    var sign = off >= 0 ? '+' : '-';
    off = Math.abs(off);
    return shortDate(ms) + ' UTC' + sign + pad2(Math.floor(off / 60)) + ':' + pad2(off % 60);
  }

  /* "12 s ago", "5 min ago", "3 h ago", "4 d ago". */
  function relTime(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) {
      return 'never';
    }
    var diff = now() - ms;
    var future = diff < 0;
    var s = Math.floor(Math.abs(diff) / 1000);
    var text;
    if (future && s < 60) {
      return 'just now';
    }
    if (s < 1) {
      return 'just now';
    }
    if (s < 60) {
      text = s + ' s';
    } else if (s < 3600) {
      text = Math.floor(s / 60) + ' min';
    } else if (s < 48 * 3600) {
      text = Math.floor(s / 3600) + ' h';
    } else {
      text = Math.floor(s / 86400) + ' d';
    }
    return future ? 'in ' + text : text + ' ago';
  }

  /* A relative time with the full date as tooltip; "never" for null. */
  function timeNode(ms, className) {
    if (ms === null || ms === undefined) {
      return el('span', { className: 'empty' + (className ? ' ' + className : '') }, 'never');
    }
    return el('span', { title: fullDate(ms), 'data-time': ms, className: className || null }, relTime(ms));
  }

  /* Notes the server clock from the Date header, so that "12 s ago" is right even
     when the terminal's clock is off. Small differences are ignored (the header has
     one-second resolution). */
  function noteServerClock(xhr) {
    var header, serverMs, skew;
    try {
      header = xhr.getResponseHeader('Date');
    } catch (e) {
      header = null;
    }
    if (!header) {
      return;
    }
    serverMs = Date.parse(header);
    if (isNaN(serverMs)) {
      return;
    }
    skew = serverMs - new Date().getTime();
    state.clockSkew = Math.abs(skew) > 5000 ? skew : 0;
  }

  /* ------------------------------------------------------------------ */
  /* Error banner                                                        */
  /* ------------------------------------------------------------------ */

  function showError(message) {
    var banner = byId('error-banner');
    setText(byId('error-message'), message);
    show(banner, true);
  }

  function clearError() {
    setText(byId('error-message'), '');
    show(byId('error-banner'), false);
  }

  /* ------------------------------------------------------------------ */
  /* HTTP                                                                */
  /* ------------------------------------------------------------------ */

  function encodeQuery(params) {
    var parts = [];
    var key;
    for (key in params) {
      if (Object.prototype.hasOwnProperty.call(params, key) && params[key] !== null &&
          params[key] !== undefined && params[key] !== '') {
        parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(params[key])));
      }
    }
    return parts.length ? '?' + parts.join('&') : '';
  }

  function hostPath(id, rest) {
    return '/api/hosts/' + encodeURIComponent(id) + (rest || '');
  }

  function errorMessage(status, data) {
    if (data && typeof data.error === 'string' && data.error) {
      return data.error;
    }
    if (status === 502 || status === 503 || status === 504) {
      return 'The wardwatch server is not available right now (HTTP ' + status + '). Try again in a moment.';
    }
    if (status === 404) {
      return 'Not found (HTTP 404).';
    }
    return 'The server answered with an error (HTTP ' + status + ').';
  }

  /*
   * api(method, path, body, callback, options)
   * callback(error, data): error is null or { status, message }.
   * A 401 answer sends the user to the login view and the callback is not called,
   * unless options.allow401 is set.
   */
  function api(method, path, body, callback, options) {
    var opts = options || {};
    var xhr = new XMLHttpRequest();
    var finished = false;
    var timedOut = false;
    var timer;

    function finish(err, data) {
      if (finished) {
        return;
      }
      finished = true;
      if (timer) {
        clearTimeout(timer);
      }
      callback(err, data);
    }

    xhr.open(method, path, true);
    xhr.setRequestHeader('Accept', 'application/json');
    /* Marks the request as the console's own for browsers that send neither Origin nor
       Sec-Fetch-Site; a page on another site cannot set it. */
    xhr.setRequestHeader('X-Wardwatch-Console', '1');
    /* Older browsers cache GET answers of XMLHttpRequest unless told not to. */
    xhr.setRequestHeader('Cache-Control', 'no-cache');
    xhr.setRequestHeader('Pragma', 'no-cache');
    if (body !== undefined && body !== null) {
      xhr.setRequestHeader('Content-Type', 'application/json');
    }
    xhr.onreadystatechange = function () {
      var status, text, data;
      if (xhr.readyState !== 4 || finished) {
        return;
      }
      status = xhr.status;
      if (status === 0 || timedOut) {
        finish({
          status: 0,
          message: timedOut ?
            'The wardwatch server did not answer in time. Check the network and try again.' :
            'Cannot reach the wardwatch server. Check the network connection and try again.'
        });
        return;
      }
      noteServerClock(xhr);
      text = xhr.responseText;
      data = null;
      if (text) {
        try {
          data = JSON.parse(text);
        } catch (e) {
          data = null;
        }
      }
      if (status === 401 && !opts.allow401) {
        finished = true;
        if (timer) {
          clearTimeout(timer);
        }
        sessionEnded();
        return;
      }
      if (status >= 200 && status < 300) {
        if (text && data === null) {
          finish({ status: status, message: 'The server sent an answer the console could not read.' });
        } else {
          finish(null, data || {});
        }
        return;
      }
      finish({ status: status, message: errorMessage(status, data) });
    };
    timer = setTimeout(function () {
      timedOut = true;
      try {
        xhr.abort();
      } catch (e) { /* ignored */ }
      finish({
        status: 0,
        message: 'The wardwatch server did not answer in time. Check the network and try again.'
      });
    }, REQUEST_TIMEOUT_MS);
    try {
      xhr.send(body !== undefined && body !== null ? JSON.stringify(body) : null);
    } catch (e) {
      finish({ status: 0, message: 'The request could not be sent: ' + e.message });
    }
    return xhr;
  }

  /* Any 401: the session is gone; go to the login view and come back afterwards. */
  function sessionEnded() {
    var wasSignedIn = state.user !== null;
    var current = location.hash;
    state.user = null;
    state.role = null;
    updateHeader();
    if (current && current !== '#/login' && current !== '#' && current !== '#/') {
      state.returnTo = current;
    }
    if (wasSignedIn) {
      state.loginNotice = 'Your session has ended. Please sign in again.';
    }
    navigate('#/login');
  }

  /* ------------------------------------------------------------------ */
  /* Views and routing                                                   */
  /* ------------------------------------------------------------------ */

  function parseRoute() {
    var hash = location.hash || '';
    var parts, id, tab, i;
    if (hash.charAt(0) === '#') {
      hash = hash.substring(1);
    }
    if (hash === '' || hash === '/') {
      return { name: 'root' };
    }
    parts = hash.split('/');
    if (parts[0] !== '') {
      return { name: 'notfound' };
    }
    if (parts[1] === 'login' && parts.length === 2) {
      return { name: 'login' };
    }
    if (parts[1] === 'alerts') {
      if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) {
        return { name: 'alerts' };
      }
      if (parts.length === 3 && /^[0-9]{1,18}$/.test(parts[2])) {
        return { name: 'alert', id: parts[2] };
      }
      return { name: 'notfound' };
    }
    if (parts[1] === 'bundles' && (parts.length === 2 || (parts.length === 3 && parts[2] === ''))) {
      return { name: 'bundles' };
    }
    if (parts[1] === 'vulns') {
      if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) {
        return { name: 'vulns' };
      }
      if (parts.length === 4 && parts[2] === 'advisory' && parts[3] !== '') {
        try {
          id = trim(decodeURIComponent(parts[3]));
        } catch (e) {
          return { name: 'notfound' };
        }
        return id ? { name: 'advisory', id: id } : { name: 'notfound' };
      }
      return { name: 'notfound' };
    }
    if (parts[1] === 'hosts') {
      if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) {
        return { name: 'hosts' };
      }
      if (parts.length <= 4 && parts[2] !== '') {
        try {
          id = decodeURIComponent(parts[2]);
        } catch (e) {
          return { name: 'notfound' };
        }
        tab = parts[3] || 'packages';
        for (i = 0; i < TABS.length; i++) {
          if (TABS[i].id === tab) {
            return { name: 'host', id: id, tab: tab };
          }
        }
      }
    }
    return { name: 'notfound' };
  }

  function navigate(hash) {
    if (location.hash === hash) {
      route();
    } else {
      location.hash = hash;
    }
  }

  function hostHash(id, tab) {
    return '#/hosts/' + encodeURIComponent(id) + (tab && tab !== 'packages' ? '/' + tab : '');
  }

  /* Tears down the current view (timers) and starts a new one in #app. */
  function beginView(name) {
    var app = byId('app');
    endView();
    state.viewToken += 1;
    var token = state.viewToken;
    var view = {
      name: name,
      token: token,
      cleanups: [],
      alive: function () {
        return state.view === view && state.viewToken === token;
      },
      every: function (ms, fn) {
        var handle = setInterval(fn, ms);
        view.cleanups.push(function () { clearInterval(handle); });
      },
      later: function (ms, fn) {
        var handle = setTimeout(fn, ms);
        view.cleanups.push(function () { clearTimeout(handle); });
        return handle;
      }
    };
    state.view = view;
    clear(app);
    app.className = 'app view-' + name;
    setActiveNav(name);
    window.scrollTo(0, 0);
    return view;
  }

  function endView() {
    var i;
    if (state.view) {
      for (i = 0; i < state.view.cleanups.length; i++) {
        try {
          state.view.cleanups[i]();
        } catch (e) { /* ignored */ }
      }
      state.view = null;
    }
  }

  function route() {
    var r = parseRoute();
    if (!state.booted) {
      return;
    }
    if (r.name === 'login') {
      if (state.user) {
        navigate('#/hosts');
        return;
      }
      clearError();
      showLogin();
      return;
    }
    if (!state.user) {
      if (r.name !== 'root') {
        state.returnTo = location.hash;
      }
      navigate('#/login');
      return;
    }
    if (r.name === 'root') {
      navigate('#/hosts');
      return;
    }
    if (r.name === 'host' && state.view && state.view.name === 'host' && state.view.hostId === r.id) {
      state.view.selectTab(r.tab);
      return;
    }
    clearError();
    if (r.name === 'hosts') {
      showHosts();
    } else if (r.name === 'host') {
      showHost(r.id, r.tab);
    } else if (r.name === 'alerts') {
      showAlerts();
    } else if (r.name === 'alert') {
      showAlert(r.id);
    } else if (r.name === 'bundles') {
      showBundles();
    } else if (r.name === 'vulns') {
      showVulns();
    } else if (r.name === 'advisory') {
      showAdvisory(r.id);
    } else {
      showNotFound();
    }
  }

  function updateHeader() {
    var signedIn = state.user !== null;
    setText(byId('current-user'), signedIn ? state.user : '');
    byId('current-user').setAttribute('title', signedIn && state.role ? state.role + ' account' : '');
    show(byId('userbox'), signedIn);
    show(byId('main-nav'), signedIn);
  }

  function setActiveNav(viewName) {
    var hostsLink = byId('nav-hosts');
    var alertsLink = byId('nav-alerts');
    var bundlesLink = byId('nav-bundles');
    var vulnsLink = byId('nav-vulns');
    if (vulnsLink) {
      setClass(vulnsLink, 'active', viewName === 'vulns' || viewName === 'advisory');
    }
    if (bundlesLink) {
      setClass(bundlesLink, 'active', viewName === 'bundles');
    }
    if (hostsLink) {
      setClass(hostsLink, 'active', viewName === 'hosts' || viewName === 'host');
    }
    if (alertsLink) {
      setClass(alertsLink, 'active', viewName === 'alerts' || viewName === 'alert');
    }
  }

  function setTitle(text) {
    document.title = text ? text + ' ' + DASH + ' wardwatch' : 'wardwatch';
  }

  /* ------------------------------------------------------------------ */
  /* Login                                                               */
  /* ------------------------------------------------------------------ */

  function showLogin() {
    var view = beginView('login');
    var errorBox, noteBox, username, password, submit, form;
    setTitle('Sign in');

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
    submit = el('button', { id: 'login-submit', type: 'submit', className: 'btn btn-primary' }, 'Sign in');
    form = el('form', { id: 'login-form', className: 'login-card', method: 'post', action: '#/login', novalidate: true }, [
      el('h1', null, 'Sign in'),
      el('p', { className: 'sub' }, 'wardwatch console'),
      noteBox,
      errorBox,
      el('div', { className: 'field' }, [el('label', { 'for': 'username' }, 'User name'), username]),
      el('div', { className: 'field' }, [el('label', { 'for': 'password' }, 'Password'), password]),
      submit
    ]);
    append(byId('app'), el('div', { className: 'login-wrap' }, form));

    if (state.loginNotice) {
      setText(noteBox, state.loginNotice);
      show(noteBox, true);
      state.loginNotice = '';
    }

    function loginError(message) {
      setText(errorBox, message);
      show(errorBox, !!message);
    }

    form.addEventListener('submit', function (ev) {
      var name = trim(username.value);
      var pass = password.value;
      ev.preventDefault();
      if (submit.disabled) {
        return;
      }
      if (!name || !pass) {
        loginError('Enter your user name and password.');
        (name ? password : username).focus();
        return;
      }
      loginError('');
      show(noteBox, false);
      submit.disabled = true;
      setText(submit, 'Signing in' + ELLIPSIS);
      api('POST', '/api/login', { username: name, password: pass }, function (err, data) {
        var dest;
        if (!view.alive()) {
          return;
        }
        submit.disabled = false;
        setText(submit, 'Sign in');
        if (err) {
          loginError(err.status === 401 && !err.message ? 'Wrong user name or password.' : err.message);
          password.value = '';
          password.focus();
          return;
        }
        state.user = data && data.username ? String(data.username) : name;
        dest = state.returnTo || '#/hosts';
        state.returnTo = null;
        /* The login answer names the user; the role (what the views offer) comes from /api/me. */
        api('GET', '/api/me', null, function (meErr, me) {
          if (!view.alive()) {
            return;
          }
          state.role = !meErr && me && me.role ? String(me.role) : null;
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
        showError('Could not sign out: ' + err.message);
        return;
      }
      state.user = null;
      state.role = null;
      state.returnTo = null;
      state.loginNotice = 'You have signed out.';
      updateHeader();
      navigate('#/login');
    }, { allow401: true });
  }

  /* ------------------------------------------------------------------ */
  /* Shared bits                                                         */
  /* ------------------------------------------------------------------ */

  function hostStatus(host) {
    if (host.revoked) {
      return 'revoked';
    }
    return host.online ? 'online' : 'offline';
  }

  function statusBadge(status) {
    var titles = {
      online: 'The agent reported in recently',
      offline: 'The agent has not reported in recently',
      revoked: 'This host\'s certificate was revoked; its agent can no longer report'
    };
    return el('span', { className: 'badge badge-' + status, title: titles[status] || null }, status);
  }

  function dataTable(id, columns) {
    var i, headRow = el('tr'), col;
    for (i = 0; i < columns.length; i++) {
      col = columns[i];
      headRow.appendChild(el('th', { scope: 'col', className: col.className || null, title: col.title || null }, col.label));
    }
    var tbody = el('tbody');
    var table = el('table', { id: id, className: 'data' }, [el('thead', null, headRow), tbody]);
    return { table: table, tbody: tbody, columns: columns.length };
  }

  function messageRow(tbody, columns, text, className) {
    clear(tbody);
    tbody.appendChild(el('tr', { className: className || 'empty-row' },
      el('td', { colspan: columns }, text)));
  }

  function showNotFound() {
    beginView('notfound');
    setTitle('Not found');
    append(byId('app'), el('div', { className: 'notice' }, [
      el('h1', null, 'Page not found'),
      el('p', null, 'There is no such page in the console.'),
      el('p', null, el('a', { href: '#/hosts' }, 'Go to the host list'))
    ]));
  }

  /* ------------------------------------------------------------------ */
  /* Host list                                                           */
  /* ------------------------------------------------------------------ */

  function showHosts() {
    var view = beginView('hosts');
    var hosts = null;
    var loading = false;
    var lastLoaded = null;
    setTitle('Hosts');

    function card(id, name, cls) {
      return el('div', { className: 'summary-card ' + cls }, [
        el('span', { className: 'value', id: id }, DASH),
        el('span', { className: 'name' }, name)
      ]);
    }

    /* Alerts of the last 24 hours, across all hosts: the first thing to look at. */
    var alertsCard = el('a', { className: 'summary-card alerts', id: 'summary-alerts-card', href: '#/alerts',
      title: 'Alerts received in the last 24 hours; open the alert list' }, [
      el('span', { className: 'value', id: 'summary-alerts' }, DASH),
      el('span', { className: 'name' }, 'Alerts, last 24 h')
    ]);

    function loadAlertCount() {
      api('GET', '/api/alerts' + encodeQuery({ limit: 1 }), null, function (err, data) {
        var recent, urgent;
        if (!view.alive()) {
          return;
        }
        if (err) {
          setText(byId('summary-alerts'), DASH);
          alertsCard.setAttribute('title', 'The alert count could not be loaded: ' + err.message);
          return;
        }
        recent = typeof data.last_24h === 'number' ? data.last_24h : 0;
        urgent = typeof data.last_24h_urgent === 'number' ? data.last_24h_urgent : 0;
        setText(byId('summary-alerts'), formatCount(recent));
        setClass(alertsCard, 'has-alerts', recent > 0);
        setClass(alertsCard, 'urgent', urgent > 0);
        alertsCard.setAttribute('data-urgent', String(urgent));
        alertsCard.setAttribute('title', recent ?
          plural(recent, 'alert', 'alerts') + ' in the last 24 hours' +
            (urgent ? ', ' + urgent + ' where a process was suspended or killed' : '') + '; open the alert list' :
          'No alerts in the last 24 hours; open the alert list');
      });
    }

    var filter = el('input', {
      id: 'host-filter', type: 'search', placeholder: 'Filter by name, label, department, OS or status',
      'aria-label': 'Filter hosts', autocomplete: 'off', spellcheck: 'false'
    });
    filter.value = state.hostFilter;
    var shownInfo = el('span', { className: 'info', id: 'hosts-shown' });
    var updated = el('span', { className: 'info', id: 'hosts-updated' });
    var t = dataTable('hosts-table', [
      { label: 'Name' },
      { label: 'Label' },
      { label: 'Department' },
      { label: 'OS' },
      { label: 'Last seen', className: 'shrink' },
      { label: 'Status', className: 'shrink' },
      { label: 'Packages', className: 'num shrink' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading hosts' + ELLIPSIS, 'placeholder-row');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Hosts')]),
      el('div', { className: 'summary', id: 'hosts-summary' }, [
        card('summary-hosts', 'Hosts', 'total'),
        card('summary-online', 'Online', 'online'),
        card('summary-offline', 'Offline', 'offline'),
        card('summary-revoked', 'Revoked', 'revoked'),
        alertsCard
      ]),
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, filter),
        shownInfo,
        el('span', { className: 'spacer' }),
        updated
      ]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    function matches(host, words) {
      var hay = [host.hostname, host.label, host.department, host.os_pretty_name, host.id,
        hostStatus(host)].join(' ').toLowerCase();
      var i;
      for (i = 0; i < words.length; i++) {
        if (hay.indexOf(words[i]) < 0) {
          return false;
        }
      }
      return true;
    }

    function hostRow(host) {
      var status = hostStatus(host);
      return el('tr', { className: 'host-row status-' + status, 'data-host-id': str(host.id), 'data-status': status }, [
        el('td', { className: 'wrap' }, el('a', { className: 'host-link', href: hostHash(host.id) },
          host.hostname ? String(host.hostname) : String(host.id))),
        el('td', { className: 'wrap' }, orDash(host.label)),
        el('td', { className: 'wrap' }, orDash(host.department)),
        el('td', { className: 'wrap' }, orDash(host.os_pretty_name)),
        el('td', { className: 'nowrap' }, timeNode(host.last_seen)),
        el('td', { className: 'nowrap' }, statusBadge(status)),
        el('td', { className: 'num' }, formatCount(host.package_count))
      ]);
    }

    function render() {
      var words = trim(filter.value).toLowerCase().split(/\s+/);
      var counts = { online: 0, offline: 0, revoked: 0 };
      var shown = 0;
      var i, host, rows;
      if (words.length === 1 && words[0] === '') {
        words = [];
      }
      if (hosts === null) {
        return;
      }
      for (i = 0; i < hosts.length; i++) {
        counts[hostStatus(hosts[i])] += 1;
      }
      setText(byId('summary-hosts'), formatCount(hosts.length));
      setText(byId('summary-online'), formatCount(counts.online));
      setText(byId('summary-offline'), formatCount(counts.offline));
      setText(byId('summary-revoked'), formatCount(counts.revoked));

      rows = document.createDocumentFragment();
      for (i = 0; i < hosts.length; i++) {
        host = hosts[i];
        if (words.length && !matches(host, words)) {
          continue;
        }
        rows.appendChild(hostRow(host));
        shown += 1;
      }
      clear(t.tbody);
      if (hosts.length === 0) {
        messageRow(t.tbody, t.columns, 'No hosts have enrolled yet. Hosts appear here once their agent has enrolled.');
      } else if (shown === 0) {
        messageRow(t.tbody, t.columns, 'No host matches the filter.');
      } else {
        t.tbody.appendChild(rows);
      }
      setText(shownInfo, words.length ? 'Showing ' + shown + ' of ' + plural(hosts.length, 'host', 'hosts') : '');
      if (lastLoaded !== null) {
        updated.setAttribute('title', 'Refreshed every ' + (REFRESH_MS / 1000) + ' s');
        setText(updated, 'Updated ' + shortDate(lastLoaded).substring(11));
      }
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      api('GET', '/api/hosts', null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the host list: ' + err.message);
          if (hosts === null) {
            messageRow(t.tbody, t.columns, 'The host list could not be loaded. It is tried again every ' +
              (REFRESH_MS / 1000) + ' s.', 'placeholder-row');
          }
          return;
        }
        hosts = isArray(data.hosts) ? data.hosts : [];
        lastLoaded = new Date().getTime();
        clearError();
        render();
      });
    }

    var filterTimer = null;
    function onFilter() {
      if (filterTimer) {
        clearTimeout(filterTimer);
      }
      filterTimer = view.later(120, function () {
        state.hostFilter = filter.value;
        render();
      });
    }
    filter.addEventListener('input', onFilter, false);
    filter.addEventListener('keyup', onFilter, false);
    filter.addEventListener('search', onFilter, false);

    /* A click anywhere on a row opens the host (unless the user is selecting text). */
    t.tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var row, selection;
      if (target && target.tagName === 'A') {
        return;
      }
      row = closestWithClass(target, 'host-row', t.tbody);
      if (!row) {
        return;
      }
      selection = window.getSelection ? String(window.getSelection()) : '';
      if (selection) {
        return;
      }
      navigate(hostHash(row.getAttribute('data-host-id')));
    }, false);

    load();
    loadAlertCount();
    view.every(REFRESH_MS, load);
    view.every(REFRESH_MS, loadAlertCount);
  }

  /* ------------------------------------------------------------------ */
  /* Host page                                                           */
  /* ------------------------------------------------------------------ */

  function showHost(hostId, initialTab) {
    var view = beginView('host');
    var app = byId('app');
    var host = null;
    var loading = false;
    var tabs = {};
    var panels = {};
    var wanted = initialTab;
    view.hostId = hostId;
    setTitle(hostId);

    /* Gets id="host-title" once the host is loaded, so that tests can wait for it. */
    var title = el('h1', { className: 'host-title' }, hostId);
    var statusHolder = el('span', { id: 'host-status' });
    var facts = el('dl', { className: 'facts', id: 'host-facts' });
    var body = el('div', { id: 'host-body' });
    append(app, [
      el('a', { className: 'back-link', id: 'back-link', href: '#/hosts' }, '\u2190 All hosts'),
      el('div', { className: 'page-head' }, [title, statusHolder]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, 'Loading host' + ELLIPSIS));

    function fact(key, label, value, wide) {
      return el('div', { className: wide ? 'fact fact-wide' : 'fact' }, [
        el('dt', null, label),
        el('dd', { id: 'fact-' + key }, value)
      ]);
    }

    function addressesNode(list) {
      var out = [], i;
      if (!isArray(list) || list.length === 0) {
        return orDash('');
      }
      for (i = 0; i < list.length; i++) {
        out.push(el('span', { className: 'addr mono' }, String(list[i])));
      }
      return out;
    }

    function bootNode(seconds) {
      if (seconds === null || seconds === undefined || !seconds) {
        return orDash('');
      }
      var ms = seconds * 1000;
      return [el('span', { title: fullDate(ms) }, shortDate(ms)), ' ', el('span', { className: 'muted' }, '(' + relTime(ms) + ')')];
    }

    function dateNode(ms) {
      if (ms === null || ms === undefined) {
        return el('span', { className: 'empty' }, 'never');
      }
      return [el('span', { title: fullDate(ms) }, shortDate(ms)), ' ', el('span', { className: 'muted' }, '(' + relTime(ms) + ')')];
    }

    function renderFacts() {
      var status = hostStatus(host);
      var os = host.os_pretty_name ? String(host.os_pretty_name) : '';
      var osDetail = [host.os_id, host.os_version_id].join(' ').replace(/^\s+|\s+$/g, '');
      setText(title, host.hostname ? host.hostname : host.id);
      title.setAttribute('id', 'host-title');
      setTitle(host.hostname ? String(host.hostname) : String(host.id));
      clear(statusHolder);
      statusHolder.appendChild(statusBadge(status));
      clear(facts);
      append(facts, [
        fact('label', 'Label', orDash(host.label)),
        fact('department', 'Department', orDash(host.department)),
        fact('os', 'Operating system', os ? el('span', { title: osDetail || null }, os) : orDash(osDetail)),
        fact('kernel', 'Kernel', orDash(host.kernel)),
        fact('arch', 'Architecture', orDash(host.arch)),
        fact('machine-id', 'Machine ID', host.machine_id ? el('span', { className: 'mono' }, String(host.machine_id)) : orDash(''), true),
        fact('addresses', 'Addresses', addressesNode(host.addresses)),
        fact('boot-time', 'Boot time', bootNode(host.boot_time)),
        fact('enrolled', 'Enrolled', dateNode(host.enrolled_at)),
        fact('last-seen', 'Last seen', dateNode(host.last_seen)),
        fact('status', 'Status', [statusBadge(status),
          host.revoked && host.revoked_at ? el('span', { className: 'muted', title: fullDate(host.revoked_at) }, ' since ' + shortDate(host.revoked_at)) : null]),
        host.agent_version ? fact('agent-version', 'Agent version', String(host.agent_version)) : null,
        fact('host-id', 'Host ID', el('span', { className: 'mono' }, String(host.id)))
      ]);
      if (tabs.packages) {
        setText(tabs.packages.count, formatCount(host.package_count));
      }
    }

    function buildTabs() {
      var nav = el('div', { className: 'tabs', role: 'tablist', id: 'host-tabs' });
      var content = el('div', { className: 'tab-content' });
      var i, def, link, count;
      for (i = 0; i < TABS.length; i++) {
        def = TABS[i];
        count = el('span', { className: 'count', hidden: true });
        link = el('a', {
          id: 'tab-' + def.id, className: 'tab', role: 'tab', href: hostHash(hostId, def.id),
          'aria-selected': 'false', 'aria-controls': 'panel-' + def.id
        }, [def.title, count]);
        tabs[def.id] = { link: link, count: count };
        nav.appendChild(link);
        panels[def.id] = el('div', { id: 'panel-' + def.id, className: 'tab-panel', role: 'tabpanel', hidden: true });
        content.appendChild(panels[def.id]);
      }
      clear(body);
      append(body, [facts, nav, content]);
      show(tabs.packages.count, true);
    }

    var loaders = {
      packages: packagesTab,
      findings: findingsTab,
      malware: malwareTab,
      listeners: listenersTab,
      accounts: accountsTab,
      history: historyTab
    };
    var tabState = {};

    /* Until the host is loaded, a tab change only records the wish. */
    view.selectTab = function (tab) {
      var i, id, on;
      wanted = tab;
      if (host === null) {
        return;
      }
      for (i = 0; i < TABS.length; i++) {
        id = TABS[i].id;
        on = id === tab;
        setClass(tabs[id].link, 'active', on);
        tabs[id].link.setAttribute('aria-selected', on ? 'true' : 'false');
        show(panels[id], on);
      }
      if (!tabState[tab]) {
        tabState[tab] = loaders[tab](view, hostId, panels[tab], tabs[tab]);
      }
      tabState[tab].activate();
    };

    function notFound(message) {
      clear(body);
      setText(title, 'Host not found');
      setTitle('Host not found');
      append(body, el('div', { className: 'notice', id: 'host-not-found' }, [
        el('p', null, message),
        el('p', null, el('a', { href: '#/hosts' }, 'Back to the host list'))
      ]));
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      api('GET', hostPath(hostId), null, function (err, data) {
        var first;
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          if (err.status === 404) {
            showError(err.message);
            notFound('No host with the id \u201c' + hostId + '\u201d is known to this server. It may have been removed.');
            endView();
            return;
          }
          showError('Could not load the host: ' + err.message);
          if (host === null) {
            clear(body);
            append(body, el('p', { className: 'placeholder' }, 'The host could not be loaded. It is tried again every ' +
              (REFRESH_MS / 1000) + ' s.'));
          }
          return;
        }
        if (!data.host) {
          showError('The server sent no host in its answer.');
          return;
        }
        first = host === null;
        host = data.host;
        if (first) {
          buildTabs();
        }
        renderFacts();
        if (first) {
          clearError();
          view.selectTab(wanted);
        }
      });
    }

    load();
    view.every(REFRESH_MS, load);
  }

  /* ---------- packages tab ---------- */

  function packagesTab(view, hostId, panel, tab) {
    var query = '';
    var offset = 0;
    var total = null;
    var requestSeq = 0;
    var searchTimer = null;

    var search = el('input', {
      id: 'package-search', type: 'search', placeholder: 'Search packages (name or source)',
      'aria-label': 'Search packages', autocomplete: 'off', spellcheck: 'false'
    });
    var count = el('span', { className: 'info', id: 'packages-count' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'packages-prev', disabled: true }, '\u2039 Previous');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'packages-next', disabled: true }, 'Next \u203a');
    var pageInfo = el('span', { className: 'page-info', id: 'packages-page' });
    var t = dataTable('packages-table', [
      { label: 'Name' },
      { label: 'Version' },
      { label: 'Arch', className: 'shrink' },
      { label: 'Source' },
      { label: 'Type', className: 'shrink', title: 'Package database' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading packages' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, search),
        count,
        el('span', { className: 'spacer' }),
        el('span', { className: 'pager' }, [prev, pageInfo, next])
      ]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    function sourceNode(p) {
      var src = p.source ? String(p.source) : '';
      var srcVer = p.source_version ? String(p.source_version) : '';
      if (!src && !srcVer) {
        return orDash('');
      }
      if (!src) {
        src = String(p.name);
      }
      var sameName = src === String(p.name);
      var sameVer = !srcVer || srcVer === String(p.version);
      if (sameName && sameVer) {
        return el('span', { className: 'muted' }, src);
      }
      return [src, sameVer ? null : el('span', { className: 'muted' }, ' ' + srcVer)];
    }

    function render(data) {
      var list = isArray(data.packages) ? data.packages : [];
      var frag = document.createDocumentFragment();
      var i, p, pages, page;
      total = typeof data.total === 'number' ? data.total : list.length;
      for (i = 0; i < list.length; i++) {
        p = list[i];
        frag.appendChild(el('tr', { className: 'package-row', 'data-name': str(p.name) }, [
          el('td', { className: 'wrap' }, String(p.name)),
          el('td', { className: 'wrap mono' }, orDash(p.version)),
          el('td', { className: 'nowrap' }, orDash(p.arch)),
          el('td', { className: 'wrap' }, sourceNode(p)),
          el('td', { className: 'nowrap muted' }, orDash(p.ecosystem))
        ]));
      }
      clear(t.tbody);
      if (list.length === 0) {
        messageRow(t.tbody, t.columns, query ?
          'No package matches \u201c' + query + '\u201d.' :
          (offset > 0 ? 'No more packages.' : 'This host has not reported any packages yet.'));
      } else {
        t.tbody.appendChild(frag);
      }
      setText(count, list.length + ' of ' + total);
      count.setAttribute('title', list.length ?
        'Showing packages ' + (offset + 1) + EN_DASH + (offset + list.length) + ' of ' + total +
          (query ? ' matching \u201c' + query + '\u201d' : '') : '');
      pages = Math.max(1, Math.ceil(total / PACKAGE_PAGE_SIZE));
      page = Math.floor(offset / PACKAGE_PAGE_SIZE) + 1;
      setText(pageInfo, 'Page ' + page + ' of ' + pages);
      prev.disabled = offset <= 0;
      next.disabled = offset + PACKAGE_PAGE_SIZE >= total;
      if (!query) {
        setText(tab.count, formatCount(total));
      }
    }

    function load() {
      var seq = ++requestSeq;
      setClass(t.table, 'loading', true);
      api('GET', hostPath(hostId, '/packages' + encodeQuery({ q: query, limit: PACKAGE_PAGE_SIZE, offset: offset })), null,
        function (err, data) {
          if (!view.alive() || seq !== requestSeq) {
            return;
          }
          setClass(t.table, 'loading', false);
          if (err) {
            showError('Could not load the packages: ' + err.message);
            if (total === null) {
              messageRow(t.tbody, t.columns, 'The packages could not be loaded.', 'placeholder-row');
            }
            return;
          }
          /* The list shrank under the current page: go back to the last page. */
          if (offset > 0 && isArray(data.packages) && data.packages.length === 0 &&
              typeof data.total === 'number' && data.total > 0 && offset >= data.total) {
            offset = Math.floor((data.total - 1) / PACKAGE_PAGE_SIZE) * PACKAGE_PAGE_SIZE;
            load();
            return;
          }
          render(data);
        });
    }

    function applySearch() {
      var q = trim(search.value);
      if (searchTimer) {
        clearTimeout(searchTimer);
        searchTimer = null;
      }
      if (q === query) {
        return;
      }
      query = q;
      offset = 0;
      load();
    }

    function onSearchInput() {
      if (searchTimer) {
        clearTimeout(searchTimer);
      }
      searchTimer = view.later(SEARCH_DELAY_MS, applySearch);
    }

    search.addEventListener('input', onSearchInput, false);
    search.addEventListener('search', onSearchInput, false);
    search.addEventListener('keyup', function (ev) {
      if (ev.keyCode === 13) {
        applySearch();
      } else {
        onSearchInput();
      }
    }, false);
    prev.addEventListener('click', function () {
      if (offset <= 0) {
        return;
      }
      offset = Math.max(0, offset - PACKAGE_PAGE_SIZE);
      load();
    }, false);
    next.addEventListener('click', function () {
      if (total !== null && offset + PACKAGE_PAGE_SIZE >= total) {
        return;
      }
      offset += PACKAGE_PAGE_SIZE;
      load();
    }, false);

    return { activate: load };
  }

  /* ---------- listening services tab ---------- */

  var WILDCARD_ADDRESSES = { '0.0.0.0': true, '::': true, '[::]': true, '*': true, '': true };

  function listenersTab(view, hostId, panel, tab) {
    var loaded = false;
    var count = el('span', { className: 'info', id: 'listeners-count' });
    var t = dataTable('listeners-table', [
      { label: 'Protocol', className: 'shrink' },
      { label: 'Address' },
      { label: 'Port', className: 'num shrink' },
      { label: 'Process' },
      { label: 'PID', className: 'num shrink' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading listening services' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, 'Addresses in bold listen on all network interfaces, so other machines can reach them.')
    ]);

    function render(list) {
      var i, l, exposed, addr, frag = document.createDocumentFragment(), exposedCount = 0;
      list = list.slice(0);
      list.sort(function (a, b) {
        if ((a.port || 0) !== (b.port || 0)) {
          return (a.port || 0) - (b.port || 0);
        }
        return str(a.protocol) < str(b.protocol) ? -1 : (str(a.protocol) > str(b.protocol) ? 1 : 0);
      });
      for (i = 0; i < list.length; i++) {
        l = list[i];
        addr = str(l.address);
        exposed = WILDCARD_ADDRESSES[addr] === true;
        if (exposed) {
          exposedCount += 1;
        }
        frag.appendChild(el('tr', {
          className: 'listener-row' + (exposed ? ' listener-exposed' : ''),
          'data-port': str(l.port), 'data-protocol': str(l.protocol)
        }, [
          el('td', { className: 'nowrap' }, str(l.protocol)),
          el('td', { className: 'mono addr-cell wrap', title: exposed ? 'All interfaces' : null }, orDash(addr)),
          el('td', { className: 'num' }, str(l.port)),
          el('td', { className: 'wrap' }, orDash(l.process)),
          el('td', { className: 'num' }, orDash(l.pid))
        ]));
      }
      clear(t.tbody);
      if (list.length === 0) {
        messageRow(t.tbody, t.columns, 'No listening services reported.');
      } else {
        t.tbody.appendChild(frag);
      }
      setText(count, plural(list.length, 'listening socket', 'listening sockets') +
        (exposedCount ? ', ' + exposedCount + ' on all interfaces' : ''));
      setText(tab.count, String(list.length));
      show(tab.count, true);
    }

    function load() {
      api('GET', hostPath(hostId, '/listeners'), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the listening services: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The listening services could not be loaded.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        render(isArray(data.listeners) ? data.listeners : []);
      });
    }

    return { activate: load };
  }

  /* ---------- accounts tab ---------- */

  function accountsTab(view, hostId, panel, tab) {
    var loaded = false;
    var count = el('span', { className: 'info', id: 'accounts-count' });
    var t = dataTable('accounts-table', [
      { label: 'Name' },
      { label: 'UID', className: 'num shrink' },
      { label: 'GID', className: 'num shrink' },
      { label: 'Home' },
      { label: 'Shell' },
      { label: 'Login', className: 'shrink', title: 'The shell lets the account log in' },
      { label: 'Sudo', className: 'shrink', title: 'The account may run commands as root through sudo' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading accounts' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, [el('span', { className: 'swatch' }),
        'Highlighted: accounts that can log in and use sudo (administrators).'])
    ]);

    function yesNo(v) {
      return v ? el('span', { className: 'yes' }, 'yes') : el('span', { className: 'no' }, 'no');
    }

    function render(list) {
      var i, a, privileged, frag = document.createDocumentFragment();
      var logins = 0, admins = 0;
      for (i = 0; i < list.length; i++) {
        a = list[i];
        privileged = !!(a.login && a.sudo);
        if (a.login) {
          logins += 1;
        }
        if (privileged) {
          admins += 1;
        }
        frag.appendChild(el('tr', {
          className: 'account-row' + (privileged ? ' account-privileged' : ''),
          'data-name': str(a.name)
        }, [
          el('td', { className: 'wrap' }, [el('span', { className: 'mono' }, str(a.name)),
            privileged ? el('span', { className: 'flag', title: 'Can log in and use sudo' }, 'admin') : null]),
          el('td', { className: 'num' }, str(a.uid)),
          el('td', { className: 'num' }, str(a.gid)),
          el('td', { className: 'mono wrap' }, orDash(a.home)),
          el('td', { className: 'mono wrap' }, orDash(a.shell)),
          el('td', null, yesNo(a.login)),
          el('td', null, yesNo(a.sudo))
        ]));
      }
      clear(t.tbody);
      if (list.length === 0) {
        messageRow(t.tbody, t.columns, 'No accounts reported.');
      } else {
        t.tbody.appendChild(frag);
      }
      setText(count, plural(list.length, 'account', 'accounts') + ', ' + logins + ' can log in, ' +
        admins + ' can log in and use sudo');
      setText(tab.count, String(list.length));
      show(tab.count, true);
    }

    function load() {
      api('GET', hostPath(hostId, '/accounts'), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the accounts: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The accounts could not be loaded.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        render(isArray(data.accounts) ? data.accounts : []);
      });
    }

    return { activate: load };
  }

  /* ---------- history tab ---------- */

  function kindClass(kind) {
    if (/_(installed|added|opened)$/.test(kind)) {
      return 'kind kind-added';
    }
    if (/_(removed|closed)$/.test(kind)) {
      return 'kind kind-removed';
    }
    if (/_(upgraded|changed)$/.test(kind)) {
      return 'kind kind-changed';
    }
    if (kind === 'alert') {
      return 'kind kind-alert';
    }
    return 'kind';
  }

  function historyTab(view, hostId, panel) {
    var loaded = false;
    var count = el('span', { className: 'info', id: 'history-count' });
    var t = dataTable('history-table', [
      { label: 'Time', className: 'shrink' },
      { label: 'Event', className: 'shrink' },
      { label: 'Details' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading history' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    function render(list) {
      var i, e, kind, frag = document.createDocumentFragment();
      for (i = 0; i < list.length; i++) {
        e = list[i];
        kind = str(e.kind);
        frag.appendChild(el('tr', { className: 'history-row', 'data-seq': str(e.seq), 'data-kind': kind }, [
          el('td', { className: 'shrink' }, e.time === null || e.time === undefined ? orDash('') : [
            el('span', { title: fullDate(e.time) }, shortDate(e.time)), ' ',
            el('span', { className: 'muted' }, '(' + relTime(e.time) + ')')
          ]),
          el('td', { className: 'shrink' }, el('span', { className: kindClass(kind) }, kind.replace(/_/g, ' '))),
          el('td', { className: 'wrap' }, orDash(e.summary))
        ]));
      }
      clear(t.tbody);
      if (list.length === 0) {
        messageRow(t.tbody, t.columns, 'No changes recorded yet.');
      } else {
        t.tbody.appendChild(frag);
      }
      setText(count, list.length >= HISTORY_LIMIT ?
        'The latest ' + HISTORY_LIMIT + ' changes, newest first' :
        plural(list.length, 'change', 'changes') + ', newest first');
    }

    function load() {
      api('GET', hostPath(hostId, '/history' + encodeQuery({ limit: HISTORY_LIMIT })), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the history: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The history could not be loaded.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        render(isArray(data.events) ? data.events : []);
      });
    }

    return { activate: load };
  }

  /* ------------------------------------------------------------------ */
  /* Alerts                                                              */
  /* ------------------------------------------------------------------ */

  /* Every field of an alert comes from a terminal and may be hostile: it is inserted
     as text only, and class names are taken from fixed lists, never from the data. */

  var KNOWN_LEVELS = { suspicious: true, suspend: true, kill: true, low: true, medium: true, high: true, critical: true };
  var ACTION_TITLES = {
    reported: 'Only reported: no process was stopped',
    suspended: 'The process tree was stopped (SIGSTOP) and is waiting for a decision',
    killed: 'The process tree was killed',
    refused: 'The guard would not signal this process (protected or out of its scope)',
    gone: 'The process had already exited'
  };

  function alertPath(id) {
    return '/api/alerts/' + encodeURIComponent(id);
  }

  function alertHash(id) {
    return '#/alerts/' + encodeURIComponent(id);
  }

  /* The detector's verdict, or the severity when a detector gives none. */
  function alertLevel(a) {
    return a.level ? String(a.level) : (a.severity ? String(a.severity) : 'alert');
  }

  /* Top priority: a process was (to be) stopped or killed. */
  function alertUrgent(a) {
    var level = str(a.level);
    var action = str(a.action);
    if (level === 'kill' || level === 'suspend' || action === 'killed' || action === 'suspended') {
      return true;
    }
    return !level && (a.severity === 'critical' || a.severity === 'high');
  }

  function levelBadge(a) {
    var level = alertLevel(a);
    var cls = KNOWN_LEVELS[level] === true ? level : 'other';
    return el('span', {
      className: 'level level-' + cls,
      title: a.severity ? 'Severity: ' + String(a.severity) : null
    }, level);
  }

  function actionNode(a, withPids) {
    var out = [], i, refused = isArray(a.refused) ? a.refused : [], r, pids = [];
    var action = a.action ? String(a.action) : '';
    out.push(action ? el('span', {
      className: 'action action-' + (ACTION_TITLES[action] ? action : 'other'),
      title: ACTION_TITLES[action] || null
    }, action) : orDash(''));
    if (withPids && isArray(a.action_pids) && a.action_pids.length) {
      out.push(el('span', { className: 'muted' }, ' pid ' + a.action_pids.join(', ')));
    }
    for (i = 0; i < refused.length; i++) {
      r = refused[i] || {};
      pids.push('pid ' + str(r.pid) + (r.reason ? ' (' + String(r.reason) + ')' : ''));
    }
    if (pids.length) {
      out.push(el('div', { className: 'refused' }, 'refused: ' + pids.join(', ')));
    }
    return out;
  }

  function cmdlineText(list) {
    return isArray(list) ? list.join(' ') : '';
  }

  function clip(text, max) {
    text = str(text);
    return text.length > max ? text.substring(0, max) + ELLIPSIS : text;
  }

  function userText(p) {
    if (!p) {
      return '';
    }
    if (p.user) {
      return String(p.user) + (p.uid !== null && p.uid !== undefined ? ' (' + p.uid + ')' : '');
    }
    return p.uid !== null && p.uid !== undefined ? 'uid ' + p.uid : '';
  }

  function dateAndAgo(ms) {
    if (ms === null || ms === undefined || typeof ms !== 'number') {
      return orDash('');
    }
    return [el('span', { title: fullDate(ms) }, shortDate(ms)), ' ',
      el('span', { className: 'muted' }, '(' + relTime(ms) + ')')];
  }

  function hostNameOf(a) {
    return a.hostname ? String(a.hostname) : str(a.host_id);
  }

  function showAlerts() {
    var view = beginView('alerts');
    var before = null;        // null: the newest page
    var newer = [];           // the `before` of each newer page, for going back
    var nextBefore = null;
    var loaded = false;
    var loading = false;
    setTitle('Alerts');

    function card(id, name, cls) {
      return el('div', { className: 'summary-card ' + cls }, [
        el('span', { className: 'value', id: id }, DASH),
        el('span', { className: 'name' }, name)
      ]);
    }

    var shownInfo = el('span', { className: 'info', id: 'alerts-shown' });
    var updated = el('span', { className: 'info', id: 'alerts-updated' });
    var newest = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newest', disabled: true }, '\u00ab Newest');
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newer', disabled: true }, '\u2039 Newer');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-older', disabled: true }, 'Older \u203a');
    var t = dataTable('alerts-table', [
      { label: 'Received', className: 'shrink', title: 'When the server received the alert' },
      { label: 'Host' },
      { label: 'Level', className: 'shrink' },
      { label: 'Action', className: 'shrink' },
      { label: 'Process' },
      { label: 'User', className: 'shrink' },
      { label: 'Files' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading alerts' + ELLIPSIS, 'placeholder-row');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Alerts')]),
      el('div', { className: 'summary', id: 'alerts-summary' }, [
        card('alerts-last-24h', 'Last 24 h', 'alerts'),
        card('alerts-urgent', 'Suspended or killed, 24 h', 'urgent-count'),
        card('alerts-total', 'All alerts', 'total')
      ]),
      el('div', { className: 'toolbar' }, [
        shownInfo,
        el('span', { className: 'spacer' }),
        updated,
        el('span', { className: 'pager' }, [newest, prev, next])
      ]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, 'Newest first. Highlighted: alerts where a process was suspended or killed. ' +
        'Times are the server\'s; click an alert for the process, its parents and every file it touched.')
    ]);

    function filesNode(a) {
      var paths = isArray(a.file_paths) ? a.file_paths : [];
      var total = typeof a.files_total === 'number' ? a.files_total : paths.length;
      var list = el('div', { className: 'paths' }), i;
      for (i = 0; i < paths.length && i < ALERT_LIST_PATHS; i++) {
        list.appendChild(el('div', { className: 'mono path' }, String(paths[i])));
      }
      return [el('span', { className: 'files-count' }, plural(total, 'file', 'files')),
        total > Math.min(paths.length, ALERT_LIST_PATHS) && paths.length ?
          el('span', { className: 'muted' }, ', first ' + Math.min(paths.length, ALERT_LIST_PATHS) + ':') : null,
        paths.length ? list : null];
    }

    function processNode(a) {
      var p = a.process;
      var cmd;
      if (!p) {
        return a.title ? el('span', { className: 'wrap' }, String(a.title)) : orDash('');
      }
      cmd = cmdlineText(p.cmdline);
      return [
        el('div', { className: 'mono exe' }, p.exe ? String(p.exe) : 'pid ' + str(p.pid)),
        cmd ? el('div', { className: 'mono cmdline muted', title: clip(cmd, 2000) }, clip(cmd, ALERT_CMDLINE_CHARS)) : null,
        p.pid !== null && p.pid !== undefined ? el('div', { className: 'muted small' }, 'pid ' + p.pid) : null
      ];
    }

    function alertRow(a) {
      var urgent = alertUrgent(a);
      return el('tr', {
        className: 'alert-row' + (urgent ? ' alert-urgent' : ''),
        'data-alert-id': str(a.id), 'data-level': alertLevel(a), 'data-action': str(a.action)
      }, [
        el('td', { className: 'nowrap' }, [
          el('a', { className: 'alert-link', href: alertHash(a.id), title: fullDate(a.received_at) }, shortDate(a.received_at)),
          el('div', { className: 'muted small' }, relTime(a.received_at))
        ]),
        el('td', null, [
          el('a', { className: 'host-link', href: hostHash(a.host_id) }, hostNameOf(a)),
          a.department ? el('div', { className: 'muted small' }, String(a.department)) : null
        ]),
        el('td', { className: 'nowrap' }, levelBadge(a)),
        el('td', { className: 'nowrap' }, actionNode(a, false)),
        el('td', { className: 'wrap' }, processNode(a)),
        el('td', { className: 'wrap' }, orDash(userText(a.process))),
        el('td', { className: 'wrap' }, filesNode(a))
      ]);
    }

    function render(data) {
      var list = isArray(data.alerts) ? data.alerts : [];
      var frag = document.createDocumentFragment();
      var i;
      setText(byId('alerts-last-24h'), formatCount(data.last_24h));
      setText(byId('alerts-urgent'), formatCount(data.last_24h_urgent));
      setText(byId('alerts-total'), formatCount(data.total));
      for (i = 0; i < list.length; i++) {
        frag.appendChild(alertRow(list[i] || {}));
      }
      clear(t.tbody);
      if (list.length === 0) {
        messageRow(t.tbody, t.columns, before === null ?
          'No alerts yet. Alerts from the terminals\u2019 ransomware guard appear here as soon as they arrive.' :
          'No older alerts.');
      } else {
        t.tbody.appendChild(frag);
      }
      nextBefore = typeof data.next_before === 'number' ? data.next_before : null;
      next.disabled = nextBefore === null;
      prev.disabled = newer.length === 0;
      newest.disabled = before === null;
      setText(shownInfo, list.length ? (before === null ? 'The newest ' : '') +
        plural(list.length, 'alert', 'alerts') + (before === null ? '' : ', older page') : '');
      updated.setAttribute('title', before === null ? 'Refreshed every ' + (REFRESH_MS / 1000) + ' s' : 'Not refreshed while looking at older alerts');
      setText(updated, 'Updated ' + shortDate(new Date().getTime()).substring(11));
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      setClass(t.table, 'loading', true);
      api('GET', '/api/alerts' + encodeQuery({ limit: ALERT_PAGE_SIZE, before: before }), null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        setClass(t.table, 'loading', false);
        if (err) {
          showError('Could not load the alerts: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The alerts could not be loaded. They are tried again every ' +
              (REFRESH_MS / 1000) + ' s.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        clearError();
        render(data);
      });
    }

    next.addEventListener('click', function () {
      if (nextBefore === null || loading) {
        return;
      }
      newer.push(before);
      before = nextBefore;
      load();
    }, false);
    prev.addEventListener('click', function () {
      if (!newer.length || loading) {
        return;
      }
      before = newer.pop();
      load();
    }, false);
    newest.addEventListener('click', function () {
      if (loading) {
        return;
      }
      newer = [];
      before = null;
      load();
    }, false);

    /* A click anywhere on a row opens the alert (unless on a link or selecting text). */
    t.tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var row, selection;
      if (target && target.tagName === 'A') {
        return;
      }
      row = closestWithClass(target, 'alert-row', t.tbody);
      if (!row) {
        return;
      }
      selection = window.getSelection ? String(window.getSelection()) : '';
      if (selection) {
        return;
      }
      navigate(alertHash(row.getAttribute('data-alert-id')));
    }, false);

    load();
    view.every(REFRESH_MS, function () {
      if (before === null) {
        load();
      }
    });
  }

  /* ---------- one alert ---------- */

  function hashNode(h) {
    if (!h || !h.sha256) {
      return orDash('');
    }
    return [el('span', { className: 'mono hash' }, String(h.sha256)),
      h.sampled ? el('span', { className: 'flag', title: 'Hash of sampled blocks of a large file: shows that it changed, but cannot be compared with a backup' }, 'sampled') : null];
  }

  function changeText(c) {
    var name = str(c && c.change).replace(/_/g, ' ');
    return c && c.path ? name + ' ' + String(c.path) : name;
  }

  /* A detector's signal, shown as its name and its other fields as plain text. */
  function signalText(sig) {
    var parts = [], key, value;
    if (!sig || typeof sig !== 'object') {
      return str(sig);
    }
    for (key in sig) {
      if (!Object.prototype.hasOwnProperty.call(sig, key) || key === 'signal') {
        continue;
      }
      value = sig[key];
      parts.push(key + ': ' + (value !== null && typeof value === 'object' ? JSON.stringify(value) : str(value)));
    }
    return str(sig.signal).replace(/_/g, ' ') + (parts.length ? ' ' + DASH + ' ' + parts.join(', ') : '');
  }

  function showAlert(alertId) {
    var view = beginView('alert');
    var app = byId('app');
    setTitle('Alert ' + alertId);

    var title = el('h1', { className: 'alert-title' }, 'Alert ' + alertId);
    var badges = el('span', { className: 'alert-badges' });
    var body = el('div', { id: 'alert-body' });
    append(app, [
      el('a', { className: 'back-link', id: 'back-link', href: '#/alerts' }, '\u2190 All alerts'),
      el('div', { className: 'page-head' }, [title, badges]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, 'Loading alert' + ELLIPSIS));

    function fact(key, label, value, wide) {
      return el('div', { className: wide ? 'fact fact-wide' : 'fact' }, [
        el('dt', null, label),
        el('dd', { id: 'alert-fact-' + key }, value)
      ]);
    }

    function section(id, heading, content) {
      return el('section', { className: 'alert-section', id: id }, [el('h2', null, heading), content]);
    }

    function processFacts(p) {
      if (!p) {
        return el('p', { className: 'placeholder' }, 'The alert names no process.');
      }
      return el('dl', { className: 'facts', id: 'alert-process' }, [
        fact('pid', 'PID', orDash(p.pid)),
        fact('exe', 'Executable', p.exe ? el('span', { className: 'mono' }, String(p.exe)) : orDash(''), true),
        fact('user', 'User', orDash(userText(p))),
        fact('sha256', 'Executable SHA-256', p.exe_sha256 ? el('span', { className: 'mono hash' }, String(p.exe_sha256)) : orDash(''), true),
        fact('ppid', 'Parent PID', orDash(p.ppid)),
        fact('cmdline', 'Command line', isArray(p.cmdline) && p.cmdline.length ?
          el('span', { className: 'mono cmdline' }, cmdlineText(p.cmdline)) : orDash(''), true),
        fact('started', 'Started', dateAndAgo(p.start_time_ms)),
        fact('cwd', 'Working directory', p.cwd ? el('span', { className: 'mono' }, String(p.cwd)) : orDash(''), true)
      ]);
    }

    function parentsTable(list) {
      var t = dataTable('alert-parents', [
        { label: 'Generation', className: 'shrink' },
        { label: 'PID', className: 'num shrink' },
        { label: 'Executable' },
        { label: 'Command line' }
      ]);
      var i, p;
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'No parents reported (the process was started by init or the chain was not known).');
      }
      for (i = 0; i < list.length; i++) {
        p = list[i] || {};
        t.tbody.appendChild(el('tr', { className: 'parent-row' }, [
          el('td', { className: 'nowrap muted' }, i === 0 ? 'parent' : (i === 1 ? 'grandparent' : (i + 1) + ' up')),
          el('td', { className: 'num' }, orDash(p.pid)),
          el('td', { className: 'mono wrap' }, orDash(p.exe)),
          el('td', { className: 'mono wrap' }, orDash(cmdlineText(p.cmdline)))
        ]));
      }
      return el('div', { className: 'table-wrap' }, t.table);
    }

    function filesTable(a) {
      var list = isArray(a.files) ? a.files : [];
      var t = dataTable('alert-files', [
        { label: 'Path' },
        { label: 'Changes' },
        { label: 'PIDs', className: 'shrink' },
        { label: 'SHA-256 before', title: 'Content hash when the guard last saw the file before the change' },
        { label: 'SHA-256 after', title: 'Content hash when the alert was raised (none: the file is gone)' }
      ]);
      var i, f, changes, j;
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'The alert lists no files.');
      }
      for (i = 0; i < list.length; i++) {
        f = list[i] || {};
        changes = [];
        if (isArray(f.changes)) {
          for (j = 0; j < f.changes.length; j++) {
            changes.push(el('div', null, changeText(f.changes[j])));
          }
        }
        t.tbody.appendChild(el('tr', { className: 'file-row' }, [
          el('td', { className: 'mono wrap' }, orDash(f.path)),
          el('td', { className: 'wrap' }, changes.length ? changes : orDash('')),
          el('td', { className: 'nowrap' }, isArray(f.pids) && f.pids.length ? f.pids.join(', ') : orDash('')),
          el('td', { className: 'wrap' }, hashNode(f.before)),
          el('td', { className: 'wrap' }, hashNode(f.after))
        ]));
      }
      return [
        el('div', { className: 'table-wrap' }, t.table),
        a.files_omitted ? el('p', { className: 'legend', id: 'alert-files-omitted' },
          plural(a.files_omitted, 'more file was', 'more files were') + ' touched but left out of the alert by the terminal.') : null
      ];
    }

    function render(a) {
      var times = a.times || {};
      var signals = isArray(a.signal_details) ? a.signal_details : [];
      var problems = isArray(a.problems) ? a.problems : [];
      var signalList = el('ul', { className: 'signals', id: 'alert-signals' });
      var problemList = el('ul', null);
      var i;
      setText(title, a.title ? String(a.title) : 'Alert ' + alertId);
      title.setAttribute('id', 'alert-title');
      setTitle('Alert ' + alertId + ' on ' + hostNameOf(a));
      clear(badges);
      append(badges, [levelBadge(a), ' ', actionNode(a, false)]);
      for (i = 0; i < signals.length; i++) {
        signalList.appendChild(el('li', null, signalText(signals[i])));
      }
      for (i = 0; i < problems.length; i++) {
        problemList.appendChild(el('li', null, String(problems[i])));
      }
      clear(body);
      append(body, [
        problems.length ? el('div', { className: 'notice notice-warn', id: 'alert-problems' }, [
          el('p', null, 'Parts of this alert could not be read and are not shown:'), problemList]) : null,
        el('dl', { className: 'facts', id: 'alert-facts' }, [
          fact('host', 'Host', [el('a', { className: 'host-link', href: hostHash(a.host_id) }, hostNameOf(a)),
            a.department ? el('span', { className: 'muted' }, ' ' + String(a.department)) : null]),
          fact('received', 'Received', dateAndAgo(a.received_at)),
          fact('raised', 'Raised on the terminal', dateAndAgo(typeof a.alert_time === 'number' ? a.alert_time : a.time)),
          fact('level', 'Level', levelBadge(a)),
          fact('action', 'Action', actionNode(a, true)),
          fact('severity', 'Severity', orDash(a.severity)),
          fact('score', 'Score', orDash(a.score)),
          fact('source', 'Detector', orDash(a.source)),
          fact('first-change', 'First change', dateAndAgo(times.first_event)),
          fact('stopped', 'Process stopped', dateAndAgo(times.action)),
          fact('files', 'Files touched', formatCount(a.files_total)),
          fact('id', 'Alert', el('span', { className: 'mono' }, '#' + str(a.id) + ' (event ' + str(a.seq) + ' of ' + str(a.host_id) + ')'))
        ]),
        signals.length ? section('alert-signals-section', 'Why', signalList) : null,
        section('alert-process-section', 'Process', processFacts(a.process)),
        section('alert-parents-section', 'Parent chain', parentsTable(isArray(a.parents) ? a.parents : [])),
        section('alert-files-section', 'Files (' + formatCount(a.files_total) + ')', filesTable(a))
      ]);
    }

    api('GET', alertPath(alertId), null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        showError(err.status === 404 ? err.message : 'Could not load the alert: ' + err.message);
        clear(body);
        append(body, el('div', { className: 'notice', id: 'alert-not-found' }, [
          el('p', null, err.status === 404 ? 'There is no alert ' + alertId + ' on this server.' : 'The alert could not be loaded.'),
          el('p', null, el('a', { href: '#/alerts' }, 'Back to the alerts'))
        ]));
        return;
      }
      if (!data.alert) {
        showError('The server sent no alert in its answer.');
        return;
      }
      clearError();
      render(data.alert);
    });
  }

  /* ------------------------------------------------------------------ */
  /* Bundles                                                             */
  /* ------------------------------------------------------------------ */

  /* Signed offline bundles: what is installed of each kind, an upload form, the version
     each host runs. Kind names come from a fixed list; everything else is text. */

  var BUNDLE_KINDS = ['vuln-feed', 'signatures', 'policies'];
  var BUNDLE_KIND_TITLES = {
    'vuln-feed': 'Vulnerability data',
    signatures: 'Malware signatures',
    policies: 'Policies'
  };
  var BUNDLE_HISTORY_ROWS = 20;

  function kindTitle(kind) {
    return Object.prototype.hasOwnProperty.call(BUNDLE_KIND_TITLES, kind) ? BUNDLE_KIND_TITLES[kind] : String(kind);
  }

  /* "1.2 MB", "512 bytes". */
  function formatBytes(n) {
    var units = ['KB', 'MB', 'GB', 'TB'];
    var i = -1;
    if (typeof n !== 'number' || isNaN(n)) {
      return DASH;
    }
    if (n < 1024) {
      return plural(n, 'byte', 'bytes');
    }
    while (n >= 1024 && i < units.length - 1) {
      n = n / 1024;
      i += 1;
    }
    return (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10) + ' ' + units[i];
  }

  /* POST /api/bundles with the file itself as the body (XMLHttpRequest sends a File as
     its bytes); callback(error, data) like api(). */
  function uploadBundle(file, onProgress, callback) {
    var xhr = new XMLHttpRequest();
    var finished = false;
    function finish(err, data) {
      if (!finished) {
        finished = true;
        callback(err, data);
      }
    }
    xhr.open('POST', '/api/bundles', true);
    xhr.setRequestHeader('X-Wardwatch-Console', '1');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-Bundle-Filename', encodeURIComponent(file.name || ''));
    if (xhr.upload && onProgress) {
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          onProgress(ev.loaded, ev.total);
        }
      };
    }
    xhr.onreadystatechange = function () {
      var data = null;
      if (xhr.readyState !== 4 || finished) {
        return;
      }
      if (xhr.status === 0) {
        finish({ status: 0, message: 'The upload did not reach the wardwatch server. Check the network connection and try again.' });
        return;
      }
      noteServerClock(xhr);
      if (xhr.responseText) {
        try {
          data = JSON.parse(xhr.responseText);
        } catch (e) {
          data = null;
        }
      }
      if (xhr.status === 401) {
        finished = true;
        sessionEnded();
        return;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        finish(null, data || {});
      } else {
        finish({ status: xhr.status, message: errorMessage(xhr.status, data) });
      }
    };
    try {
      xhr.send(file);
    } catch (e) {
      finish({ status: 0, message: 'The upload could not be sent: ' + e.message });
    }
  }

  /* A message as a sentence: ends with a full stop unless it already ends a sentence. */
  function sentence(text) {
    var t = trim(str(text));
    return /[.!?]$/.test(t) ? t : t + '.';
  }

  function showBundles() {
    var view = beginView('bundles');
    var data = null;
    var loading = false;
    var uploading = false;
    setTitle('Bundles');

    var warnings = el('div', { id: 'bundles-warnings' });
    var installed = dataTable('bundles-installed', [
      { label: 'Kind' },
      { label: 'Version', className: 'num shrink' },
      { label: 'Created', className: 'shrink', title: 'When the publisher built the bundle' },
      { label: 'Expires', className: 'shrink' },
      { label: 'Imported', className: 'shrink' },
      { label: 'By', className: 'shrink' },
      { label: 'Content' },
      { label: 'Hosts', title: 'Hosts running this version / behind / not reported' }
    ]);
    messageRow(installed.tbody, installed.columns, 'Loading bundles' + ELLIPSIS, 'placeholder-row');

    var fileInput = el('input', { id: 'bundle-file', type: 'file', name: 'bundle', accept: '.wwb,.bundle,application/octet-stream' });
    var uploadButton = el('button', { id: 'bundle-upload-submit', type: 'submit', className: 'btn btn-primary' }, 'Import bundle');
    var uploadNote = el('div', { id: 'bundle-upload-status', className: 'form-note', role: 'status', hidden: true });
    var uploadError = el('div', { id: 'bundle-upload-error', className: 'form-error', role: 'alert', hidden: true });
    var keysNote = el('p', { id: 'bundle-keys', className: 'muted small' });
    var uploadForm = el('form', { id: 'bundle-upload-form', className: 'bundle-form', method: 'post', action: '#/bundles', novalidate: true }, [
      uploadNote,
      uploadError,
      el('div', { className: 'field' }, [el('label', { 'for': 'bundle-file' }, 'Bundle file'), fileInput]),
      uploadButton,
      keysNote
    ]);

    var staleInput = el('input', { id: 'bundle-stale-days', type: 'text', inputmode: 'numeric', maxlength: 4, className: 'short-input', 'aria-label': 'Days' });
    var staleButton = el('button', { id: 'bundle-stale-save', type: 'submit', className: 'btn btn-small' }, 'Save');
    var staleNote = el('span', { id: 'bundle-stale-status', className: 'muted small' });
    var staleForm = el('form', { id: 'bundle-stale-form', className: 'inline-form', method: 'post', action: '#/bundles', novalidate: true }, [
      el('label', { 'for': 'bundle-stale-days' }, 'Warn when the newest installed data of a kind is older than '),
      staleInput, ' days ', staleButton, ' ', staleNote
    ]);

    var hostColumns = [{ label: 'Host' }, { label: 'Department' }];
    var i;
    for (i = 0; i < BUNDLE_KINDS.length; i++) {
      hostColumns.push({ label: kindTitle(BUNDLE_KINDS[i]), className: 'shrink' });
    }
    var hostsTable = dataTable('bundles-hosts', hostColumns);
    messageRow(hostsTable.tbody, hostsTable.columns, 'Loading hosts' + ELLIPSIS, 'placeholder-row');
    var history = dataTable('bundles-history', [
      { label: 'Imported', className: 'shrink' },
      { label: 'Kind' },
      { label: 'Version', className: 'num shrink' },
      { label: 'By', className: 'shrink' },
      { label: 'Signed by key', className: 'shrink' },
      { label: 'Content' }
    ]);

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Bundles')]),
      el('p', { className: 'muted' }, 'Signed offline bundles carry vulnerability data, malware signatures and policies into the hospital network. ' +
        'Each is checked completely (trusted signature, newer than what is installed, not expired, every file) before it is installed; agents fetch it from this server.'),
      warnings,
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Installed'), el('div', { className: 'table-wrap' }, installed.table)]),
      el('div', { className: 'bundle-columns' }, [
        el('div', { className: 'bundle-section' }, [el('h2', null, 'Import a bundle'), uploadForm]),
        el('div', { className: 'bundle-section' }, [el('h2', null, 'Stale data warning'), staleForm])
      ]),
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Versions on the hosts'), el('div', { className: 'table-wrap' }, hostsTable.table),
        el('p', { className: 'legend' }, 'Highlighted: hosts that run an older version than the server has installed. A dash: the host has not reported that kind.')]),
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Recent imports'), el('div', { className: 'table-wrap' }, history.table)])
    ]);

    function dateCell(ms) {
      if (ms === null || ms === undefined) {
        return el('span', { className: 'empty', title: 'not recorded' }, DASH);
      }
      return [el('span', { title: fullDate(ms) }, shortDate(ms)), el('div', { className: 'muted small' }, relTime(ms))];
    }

    function renderWarnings() {
      var k, kv, age;
      clear(warnings);
      if (data.trusted_keys_error) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          'The trusted publisher keys cannot be read, so no bundle can be imported: ' + String(data.trusted_keys_error)));
      } else if (!isArray(data.trusted_keys) || data.trusted_keys.length === 0) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          'No publisher key is trusted yet, so every bundle is refused. On the server, run: wardwatch bundle trust add PUBLISHER.pub'));
      }
      for (k = 0; k < data.kinds.length; k++) {
        kv = data.kinds[k] || {};
        if (!kv.installed) {
          continue;
        }
        if (kv.expired) {
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            kindTitle(kv.kind) + ': the installed bundle (version ' + kv.installed.version + ') expired on ' +
            shortDate(kv.installed.expires) + '. Import a newer bundle.'));
        } else if (kv.stale) {
          age = Math.floor((now() - kv.installed.created) / 86400000);
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            kindTitle(kv.kind) + ': the newest installed data (version ' + kv.installed.version + ') was created ' +
            plural(age, 'day', 'days') + ' ago, more than the ' + plural(data.stale_after_days, 'day', 'days') +
            ' set below. Import a newer bundle.'));
        }
      }
    }

    function renderInstalled() {
      var k, kv, b, rows = document.createDocumentFragment();
      for (k = 0; k < data.kinds.length; k++) {
        kv = data.kinds[k] || {};
        b = kv.installed;
        if (!b) {
          rows.appendChild(el('tr', { className: 'bundle-row bundle-missing', 'data-kind': str(kv.kind) }, [
            el('td', null, kindTitle(kv.kind)),
            el('td', { colspan: installed.columns - 1, className: 'muted' }, 'Not installed')
          ]));
          continue;
        }
        rows.appendChild(el('tr', {
          className: 'bundle-row' + (kv.stale || kv.expired ? ' bundle-stale-row' : ''),
          'data-kind': str(kv.kind), 'data-version': str(b.version)
        }, [
          el('td', null, [kindTitle(kv.kind), el('div', { className: 'muted small mono' }, str(kv.kind))]),
          el('td', { className: 'num bundle-version' }, str(b.version)),
          el('td', { className: 'nowrap' }, dateCell(b.created)),
          el('td', { className: 'nowrap' }, [dateCell(b.expires), kv.expired ? el('span', { className: 'flag' }, 'expired') : null]),
          el('td', { className: 'nowrap' }, dateCell(b.imported_at)),
          el('td', { className: 'nowrap' }, orDash(b.imported_by)),
          el('td', null, [plural(b.members, 'file', 'files') + ', ' + formatBytes(b.total_size),
            b.key_id ? el('div', { className: 'muted small mono' }, 'key ' + String(b.key_id)) : null]),
          el('td', { className: 'nowrap' }, [
            el('span', { title: 'running this version' }, String(kv.hosts_current)), ' / ',
            el('span', { className: kv.hosts_behind ? 'version-behind' : null, title: 'behind' }, String(kv.hosts_behind)), ' / ',
            el('span', { className: 'muted', title: 'not reported' }, String(kv.hosts_not_reported))
          ])
        ]));
      }
      clear(installed.tbody);
      installed.tbody.appendChild(rows);
    }

    function renderHosts() {
      var rows = document.createDocumentFragment();
      var h, host, k, kind, v, cells, behind;
      var list = isArray(data.hosts) ? data.hosts : [];
      for (h = 0; h < list.length; h++) {
        host = list[h] || {};
        behind = isArray(host.behind) && host.behind.length > 0;
        cells = [
          el('td', { className: 'wrap' }, el('a', { className: 'host-link', href: hostHash(host.id) },
            host.hostname ? String(host.hostname) : str(host.id))),
          el('td', { className: 'wrap' }, orDash(host.department))
        ];
        for (k = 0; k < BUNDLE_KINDS.length; k++) {
          kind = BUNDLE_KINDS[k];
          v = host.bundles && Object.prototype.hasOwnProperty.call(host.bundles, kind) ? host.bundles[kind] : null;
          cells.push(el('td', { className: 'num', 'data-kind': kind },
            v ? el('span', {
              className: v.behind ? 'version-behind' : 'version-current',
              title: 'reported ' + fullDate(v.reported_at) + (v.behind ? '; older than the installed version' : '')
            }, String(v.version)) : el('span', { className: 'empty', title: 'not reported' }, DASH)));
        }
        rows.appendChild(el('tr', {
          className: 'bundle-host-row' + (behind ? ' host-behind' : ''),
          'data-host-id': str(host.id), 'data-behind': behind ? 'true' : 'false'
        }, cells));
      }
      clear(hostsTable.tbody);
      if (list.length === 0) {
        messageRow(hostsTable.tbody, hostsTable.columns, 'No hosts have enrolled yet.');
      } else {
        hostsTable.tbody.appendChild(rows);
      }
    }

    function renderHistory() {
      var rows = document.createDocumentFragment();
      var list = isArray(data.history) ? data.history : [];
      var j, b;
      for (j = 0; j < list.length && j < BUNDLE_HISTORY_ROWS; j++) {
        b = list[j] || {};
        rows.appendChild(el('tr', null, [
          el('td', { className: 'nowrap' }, dateCell(b.imported_at)),
          el('td', null, kindTitle(b.kind)),
          el('td', { className: 'num' }, str(b.version)),
          el('td', { className: 'nowrap' }, orDash(b.imported_by)),
          el('td', { className: 'nowrap mono small' }, orDash(b.key_id)),
          el('td', null, plural(b.member_count, 'file', 'files') + ', ' + formatBytes(b.total_size))
        ]));
      }
      clear(history.tbody);
      if (list.length === 0) {
        messageRow(history.tbody, history.columns, 'No bundle has been imported yet.');
      } else {
        history.tbody.appendChild(rows);
      }
    }

    function render() {
      var keys = isArray(data.trusted_keys) ? data.trusted_keys : [];
      renderWarnings();
      renderInstalled();
      renderHosts();
      renderHistory();
      setText(keysNote, (keys.length ? 'Trusted publisher keys: ' + keys.join(', ') + '. ' : '') +
        'Bundles larger than ' + formatBytes(data.max_upload_bytes) + ' are imported on the server with: wardwatch bundle import FILE');
      if (document.activeElement !== staleInput && !staleInput.getAttribute('data-edited')) {
        staleInput.value = String(data.stale_after_days);
      }
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      api('GET', '/api/bundles', null, function (err, result) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the bundles: ' + err.message);
          return;
        }
        data = result;
        if (!isArray(data.kinds)) {
          data.kinds = [];
        }
        clearError();
        render();
      });
    }

    function uploadMessage(box, text) {
      setText(box, text);
      show(box, !!text);
    }

    uploadForm.addEventListener('submit', function (ev) {
      var file = fileInput.files && fileInput.files.length ? fileInput.files[0] : null;
      ev.preventDefault();
      if (uploading) {
        return;
      }
      uploadMessage(uploadError, '');
      uploadMessage(uploadNote, '');
      if (!file) {
        uploadMessage(uploadError, 'Choose a bundle file first.');
        return;
      }
      if (data && typeof data.max_upload_bytes === 'number' && file.size > data.max_upload_bytes) {
        uploadMessage(uploadError, 'This file is larger than the upload limit of ' + formatBytes(data.max_upload_bytes) +
          '. Import it on the server with: wardwatch bundle import FILE');
        return;
      }
      uploading = true;
      uploadButton.disabled = true;
      setText(uploadButton, 'Checking' + ELLIPSIS);
      uploadMessage(uploadNote, 'Uploading ' + file.name + ELLIPSIS);
      uploadBundle(file, function (loaded, total) {
        if (view.alive() && loaded < total) {
          uploadMessage(uploadNote, 'Uploading ' + file.name + ': ' + Math.floor(loaded * 100 / total) + ' %');
        } else if (view.alive()) {
          uploadMessage(uploadNote, 'Checking ' + file.name + ELLIPSIS);
        }
      }, function (err, result) {
        var b;
        uploading = false;
        if (!view.alive()) {
          return;
        }
        uploadButton.disabled = false;
        setText(uploadButton, 'Import bundle');
        if (err) {
          uploadMessage(uploadNote, '');
          uploadMessage(uploadError, 'Refused: ' + sentence(err.message) + ' Nothing was installed.');
          return;
        }
        b = result && result.bundle ? result.bundle : {};
        uploadMessage(uploadNote, 'Imported ' + kindTitle(b.kind) + ' version ' + str(b.version) +
          (typeof result.replaced_version === 'number' ? ' (replacing version ' + result.replaced_version + ')' : '') +
          '. Agents fetch it from now on.');
        try {
          fileInput.value = '';
        } catch (e) { /* some old browsers do not allow it */ }
        load();
      });
    }, false);

    staleInput.addEventListener('input', function () {
      staleInput.setAttribute('data-edited', 'true');
    }, false);

    staleForm.addEventListener('submit', function (ev) {
      var days = parseInt(trim(staleInput.value), 10);
      ev.preventDefault();
      if (isNaN(days) || days < 1 || days > 3650 || String(days) !== trim(staleInput.value)) {
        setText(staleNote, 'Enter a whole number of days from 1 to 3650.');
        return;
      }
      staleButton.disabled = true;
      api('PUT', '/api/bundles/settings', { stale_after_days: days }, function (err) {
        if (!view.alive()) {
          return;
        }
        staleButton.disabled = false;
        if (err) {
          setText(staleNote, 'Not saved: ' + err.message);
          return;
        }
        staleInput.removeAttribute('data-edited');
        setText(staleNote, 'Saved.');
        load();
      });
    }, false);

    load();
    view.every(REFRESH_MS, load);
  }

  /* ------------------------------------------------------------------ */
  /* Vulnerabilities                                                     */
  /* ------------------------------------------------------------------ */

  /* The fleet view (#/vulns), a host's findings (a tab of the host page) and the page of
     one CVE or advisory (#/vulns/advisory/ID) with its accepted risks. Advisory ids,
     package names, versions and the feed's words are outside data: text only. Class
     names come from the fixed lists below, never from the data. */

  var PRIORITIES = [
    { id: 'ransomware', title: 'Ransomware', hint: 'In CISA\u2019s KEV catalog as used by ransomware campaigns' },
    { id: 'exploited', title: 'Exploited', hint: 'In CISA\u2019s KEV catalog: exploited in the wild' },
    { id: 'likely', title: 'Likely exploited', hint: 'EPSS gives at least 10 % probability of exploitation within 30 days' },
    { id: 'severe', title: 'Severe', hint: 'Rated high or critical' },
    { id: 'other', title: 'Other', hint: 'Everything else' }
  ];
  var FINDING_STATES = [
    { id: 'open', title: 'Open' },
    { id: 'suppressed', title: 'Accepted risk' },
    { id: 'fixed', title: 'Fixed' },
    { id: 'all', title: 'All' }
  ];
  var STATE_TITLES = {
    open: 'Open: neither fixed nor accepted',
    accepted: 'Accepted risk: hidden from the open lists until the suppression expires or is lifted',
    fixed: 'Fixed: the package was upgraded or removed, or the feed no longer lists it'
  };
  var STATE_RANK = { open: 0, accepted: 1, fixed: 2 };
  var FINDING_PAGE_SIZE = 100;
  var MAX_SUPPRESSION_DAYS = 366;
  var DAY_MS = 86400000;

  function priorityDef(id) {
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      if (PRIORITIES[i].id === id) {
        return PRIORITIES[i];
      }
    }
    return null;
  }

  function priorityBadge(priority) {
    var def = priorityDef(str(priority));
    return el('span', { className: 'prio prio-' + (def ? def.id : 'other'), title: def ? def.hint : null },
      def ? def.title : (priority ? String(priority) : DASH));
  }

  function findingState(f) {
    if (f.fixed_at !== null && f.fixed_at !== undefined) {
      return 'fixed';
    }
    return f.suppression_id !== null && f.suppression_id !== undefined ? 'accepted' : 'open';
  }

  function stateBadge(s) {
    return el('span', { className: 'fstate fstate-' + (STATE_TITLES[s] ? s : 'open'), title: STATE_TITLES[s] || null }, s);
  }

  function advisoryHash(id) {
    return '#/vulns/advisory/' + encodeURIComponent(id);
  }

  function advisoryPath(id) {
    return '/api/vuln/advisories/' + encodeURIComponent(id);
  }

  function advisoryLink(id) {
    return el('a', { className: 'advisory-link mono', href: advisoryHash(str(id)) }, str(id));
  }

  /* The CVE ids of a finding that are not its advisory id, as links. */
  function cveLinks(f) {
    var list = isArray(f.cves) ? f.cves : [];
    var out = [], i;
    for (i = 0; i < list.length; i++) {
      if (String(list[i]) !== str(f.advisory)) {
        out.push(advisoryLink(list[i]), ' ');
      }
    }
    return out.length ? el('div', { className: 'cves small' }, out) : null;
  }

  /* The priority badge already says ransomware or KEV; the EPSS score adds to it. */
  function exploitFlags(f) {
    return typeof f.epss === 'number' ? el('span', { className: 'muted small', title: 'EPSS: probability of exploitation in the next 30 days' },
      'EPSS ' + percent(f.epss)) : null;
  }

  function percent(x) {
    var p = x * 100;
    return (p >= 10 ? Math.round(p) : Math.round(p * 10) / 10) + ' %';
  }

  /* "3.0.15-1 → 3.0.17-1", or the version and the remedy when there is no fixed version. */
  function versionChange(f) {
    return [
      el('span', { className: 'mono' }, str(f.version)),
      f.fixed_version ? [' \u2192 ', el('span', { className: 'mono fixed-version', title: 'fixed in this version' }, String(f.fixed_version))] :
        el('div', { className: 'muted small' }, str(f.remedy))
    ];
  }

  function hostCell(hostId, hostname, label) {
    return [
      el('a', { className: 'host-link', href: hostHash(str(hostId)) }, hostname ? String(hostname) : str(hostId)),
      label ? el('div', { className: 'muted small' }, String(label)) : null
    ];
  }

  /* CVE ids are upper case in the feed; people type them in any case. */
  function normalizeAdvisoryId(text) {
    var t = trim(str(text));
    return /^cve-/i.test(t) ? t.toUpperCase() : t;
  }

  /* "2026-01-31", the UTC day of a time (suppressions expire at 00:00 UTC). */
  function utcDay(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
  }

  function dateCellOf(ms) {
    if (ms === null || ms === undefined) {
      return el('span', { className: 'empty' }, DASH);
    }
    return [el('span', { title: fullDate(ms) }, shortDate(ms)), el('div', { className: 'muted small' }, relTime(ms))];
  }

  /* A table of suppressions; opts.withAdvisory adds the advisory column, opts.onLift (for
     admins) a Lift button on each active one. */
  function suppressionTable(id, list, opts) {
    var columns = [];
    var i, s, status, cells;
    if (opts.withAdvisory) {
      columns.push({ label: 'Advisory' });
    }
    columns.push({ label: 'Hosts' }, { label: 'Reason' }, { label: 'Expires', className: 'shrink', title: 'At 00:00 UTC of this day' },
      { label: 'Accepted by', className: 'shrink' }, { label: 'Status', className: 'shrink' });
    if (opts.onLift) {
      columns.push({ label: '', className: 'shrink' });
    }
    var t = dataTable(id, columns);
    for (i = 0; i < list.length; i++) {
      s = list[i] || {};
      if (s.active) {
        status = el('span', { className: 'fstate fstate-accepted' }, 'active');
      } else if (s.lifted_at !== null && s.lifted_at !== undefined) {
        status = [el('span', { className: 'fstate fstate-fixed' }, 'lifted'),
          el('div', { className: 'muted small', title: fullDate(s.lifted_at) }, 'by ' + str(s.lifted_by) + ', ' + relTime(s.lifted_at))];
      } else {
        status = el('span', { className: 'fstate fstate-fixed' }, 'expired');
      }
      cells = [];
      if (opts.withAdvisory) {
        cells.push(el('td', { className: 'nowrap' }, advisoryLink(s.advisory)));
      }
      cells.push(
        el('td', { className: 'wrap' }, s.host_id ? hostCell(s.host_id, s.host_label, null) : el('span', { className: 'every-host' }, 'every host')),
        el('td', { className: 'wrap reason' }, str(s.reason)),
        el('td', { className: 'nowrap', title: 'until ' + fullDate(s.expires_at) }, utcDay(s.expires_at - 1)),
        el('td', { className: 'nowrap' }, [str(s.created_by), el('div', { className: 'muted small', title: fullDate(s.created_at) },
          str(s.role) + ', ' + relTime(s.created_at))]),
        el('td', { className: 'nowrap' }, status)
      );
      if (opts.onLift) {
        cells.push(el('td', { className: 'nowrap' }, s.active ? el('button', {
          type: 'button', className: 'btn btn-small lift-suppression', 'data-id': str(s.id),
          title: 'End this accepted risk now: its findings count as open again'
        }, 'Lift') : null));
      }
      t.tbody.appendChild(el('tr', { className: 'suppression-row' + (s.active ? '' : ' suppression-inactive'),
        'data-id': str(s.id), 'data-active': s.active ? 'true' : 'false' }, cells));
    }
    if (!list.length) {
      messageRow(t.tbody, t.columns, opts.empty || 'No accepted risks.');
    }
    if (opts.onLift) {
      t.tbody.addEventListener('click', function (ev) {
        var target = ev.target || ev.srcElement;
        if (target && target.tagName === 'BUTTON' && hasClass(target, 'lift-suppression') && !target.disabled) {
          target.disabled = true;
          opts.onLift(target.getAttribute('data-id'), target);
        }
      }, false);
    }
    return el('div', { className: 'table-wrap' }, t.table);
  }

  function liftSuppression(id, button, done) {
    api('DELETE', '/api/vuln/suppressions/' + encodeURIComponent(id), null, function (err) {
      if (err) {
        button.disabled = false;
        showError('Could not lift the accepted risk: ' + err.message);
        return;
      }
      clearError();
      done();
    });
  }

  function selectBox(id, label, options, value) {
    var select = el('select', { id: id, 'aria-label': label });
    var i;
    for (i = 0; i < options.length; i++) {
      select.appendChild(el('option', { value: options[i].value }, options[i].text));
    }
    select.value = value;
    return select;
  }

  /* A search box for a CVE or advisory id; opens its page. */
  function advisorySearchForm() {
    var input = el('input', {
      id: 'advisory-search', type: 'search', placeholder: 'CVE or advisory id, e.g. CVE-2024-3094',
      'aria-label': 'Open a CVE or advisory', autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    var form = el('form', { id: 'advisory-search-form', className: 'advisory-search', method: 'get', action: '#/vulns', novalidate: true }, [
      input,
      el('button', { id: 'advisory-search-submit', type: 'submit', className: 'btn' }, 'Open')
    ]);
    form.addEventListener('submit', function (ev) {
      var id = normalizeAdvisoryId(input.value);
      ev.preventDefault();
      if (id) {
        navigate(advisoryHash(id));
      } else {
        input.focus();
      }
    }, false);
    return form;
  }

  /* ---------- the fleet ---------- */

  function showVulns() {
    var view = beginView('vulns');
    var filters = state.vulnFilters;
    var summary = null;
    var loadingSummary = false;
    var findingsSeq = 0;
    var findingsTotal = null;
    setTitle('Vulnerabilities');

    var feedLine = el('p', { className: 'feed-status', id: 'vuln-feed' }, 'Loading the feed status' + ELLIPSIS);
    var feedWarnings = el('div', { id: 'vuln-feed-warnings' });
    var totalsLine = el('p', { className: 'muted small', id: 'vuln-totals' });
    var prioBox = el('div', { className: 'summary', id: 'vuln-priorities' });

    var depColumns = [{ label: 'Department' }, { label: 'Hosts', className: 'num shrink' },
      { label: 'With findings', className: 'num shrink', title: 'Hosts with open findings' }];
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      depColumns.push({ label: PRIORITIES[i].title, className: 'num shrink', title: PRIORITIES[i].hint });
    }
    var deps = dataTable('vuln-departments', depColumns);
    messageRow(deps.tbody, deps.columns, 'Loading' + ELLIPSIS, 'placeholder-row');
    var upgrades = dataTable('vuln-upgrades', [
      { label: 'Package', title: 'Source package' },
      { label: 'Upgrade to', title: 'This version or later removes every finding counted here' },
      { label: 'Hosts', className: 'num shrink' },
      { label: 'Findings', className: 'num shrink', title: 'Open findings (per host and advisory) the upgrade removes' },
      { label: 'Advisories', className: 'num shrink' },
      { label: 'Ransomware', className: 'num shrink', title: 'Of those, used by ransomware campaigns' },
      { label: 'Exploited', className: 'num shrink', title: 'Of those, in CISA\u2019s KEV catalog' }
    ]);
    messageRow(upgrades.tbody, upgrades.columns, 'Loading' + ELLIPSIS, 'placeholder-row');
    var eol = dataTable('vuln-eol', [
      { label: 'Host' },
      { label: 'Department' },
      { label: 'Operating system' },
      { label: 'Remedy' },
      { label: 'Advisory', className: 'shrink' }
    ]);
    messageRow(eol.tbody, eol.columns, 'Loading' + ELLIPSIS, 'placeholder-row');

    var prioOptions = [{ value: '', text: 'Every priority' }];
    for (i = 0; i < PRIORITIES.length; i++) {
      prioOptions.push({ value: PRIORITIES[i].id, text: PRIORITIES[i].title });
    }
    var stateOptions = [];
    for (i = 0; i < FINDING_STATES.length; i++) {
      stateOptions.push({ value: FINDING_STATES[i].id, text: FINDING_STATES[i].title });
    }
    var prioSelect = selectBox('vuln-filter-priority', 'Priority', prioOptions, filters.priority);
    var depSelect = selectBox('vuln-filter-department', 'Department', [{ value: '', text: 'Every department' }], '');
    var stateSelect = selectBox('vuln-filter-state', 'State', stateOptions, filters.state);
    var findingsCount = el('span', { className: 'info', id: 'vuln-findings-count' });
    var exportCsv = el('a', { id: 'vuln-export-csv', className: 'btn btn-small', href: '#', title: 'Every matching finding as a CSV file' }, 'CSV');
    var exportJson = el('a', { id: 'vuln-export-json', className: 'btn btn-small', href: '#', title: 'Every matching finding as a JSON file' }, 'JSON');
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'vuln-findings-prev', disabled: true }, '\u2039 Previous');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'vuln-findings-next', disabled: true }, 'Next \u203a');
    var pageInfo = el('span', { className: 'page-info', id: 'vuln-findings-page' });
    var findings = dataTable('vuln-findings', [
      { label: 'Priority', className: 'shrink' },
      { label: 'Host' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Installed \u2192 fixed' },
      { label: 'First seen', className: 'shrink' },
      { label: 'State', className: 'shrink' }
    ]);
    messageRow(findings.tbody, findings.columns, 'Loading findings' + ELLIPSIS, 'placeholder-row');
    var suppressionsBox = el('div', { id: 'vuln-suppressions-box' });

    function section(id, heading, content, note) {
      return el('section', { className: 'vuln-section', id: id }, [el('h2', null, heading), content,
        note ? el('p', { className: 'legend' }, note) : null]);
    }

    append(byId('app'), el('div', { id: 'vulns-view' }, [
      el('div', { className: 'page-head' }, [el('h1', null, 'Vulnerabilities'), el('span', { className: 'spacer' }), advisorySearchForm()]),
      feedLine,
      feedWarnings,
      prioBox,
      totalsLine,
      section('vuln-upgrades-section', 'Upgrades that remove the most risk', el('div', { className: 'table-wrap' }, upgrades.table),
        'Ranked by the risk removed: one finding used by ransomware outweighs any number of ordinary ones.'),
      el('div', { className: 'vuln-columns' }, [
        section('vuln-departments-section', 'By department', el('div', { className: 'table-wrap' }, deps.table),
          'Open findings, counted once per host and advisory. Click a department to list its findings.'),
        section('vuln-eol-section', 'Operating systems past their end of life', el('div', { className: 'table-wrap' }, eol.table))
      ]),
      section('vuln-findings-section', 'Findings', [
        el('div', { className: 'toolbar' }, [
          el('span', { className: 'filters' }, [prioSelect, depSelect, stateSelect]),
          findingsCount,
          el('span', { className: 'spacer' }),
          el('span', { className: 'exports' }, [el('span', { className: 'muted small' }, 'Download '), exportCsv, ' ', exportJson]),
          el('span', { className: 'pager' }, [prev, pageInfo, next])
        ]),
        el('div', { className: 'table-wrap' }, findings.table)
      ], 'Most urgent first: used by ransomware, then known exploited, then likely to be exploited (EPSS), then severity. One row per installed package.'),
      section('vuln-suppressions-section', 'Accepted risks', suppressionsBox)
    ]));

    function renderFeed() {
      var feed = summary.feed || {};
      var m = feed.last_fleet_match;
      clear(feedLine);
      clear(feedWarnings);
      if (feed.version === null || feed.version === undefined) {
        append(feedLine, el('span', { className: 'muted' }, 'No vulnerability feed is in use.'));
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-missing' }, [
          'No vulnerability feed is installed, so no host is checked. Import a vulnerability data bundle on the ',
          el('a', { href: '#/bundles' }, 'Bundles'), ' page.']));
      } else {
        append(feedLine, [
          el('strong', null, 'Feed version ' + feed.version), ' ' + DASH + ' ',
          el('span', { id: 'vuln-feed-advisories' }, plural(feed.advisories, 'advisory', 'advisories')), ', ',
          plural(feed.kev_entries, 'KEV entry', 'KEV entries'), ', loaded ', timeNode(feed.loaded_at), '. ',
          m ? el('span', { id: 'vuln-feed-match' }, ['Last full re-match: ', timeNode(m.finished_at), ' (version ' + m.feed_version + ', ' +
            plural(m.hosts, 'host', 'hosts') + ', ' + m.appeared + ' appeared, ' + m.fixed + ' fixed, ' + m.open + ' open, ' +
            m.millis + ' ms).']) : el('span', { id: 'vuln-feed-match', className: 'muted' }, 'The fleet has not been re-matched yet.')
        ]);
      }
      if (feed.error) {
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-error', role: 'alert' },
          'The newest installed feed is not in use' + (feed.version !== null && feed.version !== undefined ?
            ' (version ' + feed.version + ' still is)' : '') + ': ' + String(feed.error)));
      }
    }

    function renderPriorities() {
      var list = isArray(summary.by_priority) ? summary.by_priority : [];
      var counts = {}, k, def, c, card;
      for (k = 0; k < list.length; k++) {
        if (list[k] && list[k].priority) {
          counts[list[k].priority] = list[k];
        }
      }
      clear(prioBox);
      for (k = 0; k < PRIORITIES.length; k++) {
        def = PRIORITIES[k];
        c = counts[def.id] || { findings: 0, hosts: 0 };
        card = el('div', {
          className: 'summary-card prio-card prio-card-' + def.id + (c.findings > 0 ? ' has-findings' : '') +
            (filters.priority === def.id ? ' selected' : ''),
          'data-priority': def.id, 'data-findings': String(c.findings), role: 'button', tabindex: '0',
          title: def.hint + '. Click to list these findings.'
        }, [
          el('span', { className: 'value' }, formatCount(c.findings)),
          el('span', { className: 'name' }, def.title),
          el('span', { className: 'sub' }, plural(c.hosts, 'host', 'hosts'))
        ]);
        prioBox.appendChild(card);
      }
    }

    function renderTotals() {
      var t = summary.totals || {};
      setText(totalsLine, formatCount(t.matched) + ' of ' + plural(t.hosts, 'host', 'hosts') + ' checked against the feed, ' +
        formatCount(t.with_findings) + ' with open findings; ' + plural(t.suppressed_findings, 'finding', 'findings') +
        ' hidden by accepted risks. Counts are of open findings, once per host and advisory.');
    }

    function renderDepartments() {
      var list = isArray(summary.by_department) ? summary.by_department : [];
      var frag = document.createDocumentFragment();
      var k, d, cells, p, n, current = depSelect.value || filters.department;
      for (k = 0; k < list.length; k++) {
        d = list[k] || {};
        cells = [
          el('td', { className: 'wrap' }, d.department ? el('a', { href: '#/vulns', className: 'department-link' }, String(d.department)) :
            el('span', { className: 'empty' }, 'none')),
          el('td', { className: 'num' }, formatCount(d.hosts)),
          el('td', { className: 'num' }, formatCount(d.hosts_with_findings))
        ];
        for (p = 0; p < PRIORITIES.length; p++) {
          n = d.by_priority && typeof d.by_priority[PRIORITIES[p].id] === 'number' ? d.by_priority[PRIORITIES[p].id] : 0;
          cells.push(el('td', { className: 'num' + (n ? ' count-' + PRIORITIES[p].id : ' muted'), 'data-priority': PRIORITIES[p].id }, String(n)));
        }
        frag.appendChild(el('tr', { className: 'department-row', 'data-department': str(d.department) }, cells));
      }
      clear(deps.tbody);
      if (!list.length) {
        messageRow(deps.tbody, deps.columns, 'No hosts have enrolled yet.');
      } else {
        deps.tbody.appendChild(frag);
      }
      /* The department filter offers every department (and keeps a chosen one). */
      clear(depSelect);
      depSelect.appendChild(el('option', { value: '' }, 'Every department'));
      for (k = 0; k < list.length; k++) {
        if (list[k] && list[k].department) {
          depSelect.appendChild(el('option', { value: String(list[k].department) }, String(list[k].department)));
        }
      }
      if (current && !hasOption(depSelect, current)) {
        depSelect.appendChild(el('option', { value: current }, current));
      }
      depSelect.value = current || '';
    }

    function hasOption(select, value) {
      var k;
      for (k = 0; k < select.options.length; k++) {
        if (select.options[k].value === value) {
          return true;
        }
      }
      return false;
    }

    function renderUpgrades() {
      var list = isArray(summary.upgrades) ? summary.upgrades : [];
      var frag = document.createDocumentFragment();
      var k, u;
      for (k = 0; k < list.length; k++) {
        u = list[k] || {};
        frag.appendChild(el('tr', { className: 'upgrade-row' + (u.ransomware ? ' upgrade-ransomware' : ''),
          'data-source': str(u.source), 'data-ecosystem': str(u.ecosystem), 'data-target': str(u.target_version) }, [
          el('td', { className: 'wrap' }, [el('span', { className: 'mono package-name' }, str(u.source)),
            el('div', { className: 'muted small' }, str(u.ecosystem))]),
          el('td', { className: 'wrap mono target-version' }, orDash(u.target_version)),
          el('td', { className: 'num' }, formatCount(u.hosts)),
          el('td', { className: 'num' }, formatCount(u.findings)),
          el('td', { className: 'num' }, formatCount(u.advisories)),
          el('td', { className: 'num' + (u.ransomware ? ' count-ransomware' : ' muted') }, formatCount(u.ransomware)),
          el('td', { className: 'num' + (u.exploited ? ' count-exploited' : ' muted') }, formatCount(u.exploited))
        ]));
      }
      clear(upgrades.tbody);
      if (!list.length) {
        messageRow(upgrades.tbody, upgrades.columns, 'No open finding has a fixed version to upgrade to.');
      } else {
        upgrades.tbody.appendChild(frag);
      }
    }

    function renderEol() {
      var list = isArray(summary.eol_hosts) ? summary.eol_hosts : [];
      var frag = document.createDocumentFragment();
      var k, h;
      for (k = 0; k < list.length; k++) {
        h = list[k] || {};
        frag.appendChild(el('tr', { className: 'eol-row' + (h.suppressed ? ' eol-accepted' : ''), 'data-host': str(h.host_id) }, [
          el('td', { className: 'wrap' }, hostCell(h.host_id, h.hostname, h.host_label)),
          el('td', { className: 'wrap' }, orDash(h.department)),
          el('td', { className: 'wrap' }, orDash(h.os)),
          el('td', { className: 'wrap' }, [str(h.remedy), h.suppressed ? el('span', { className: 'flag', title: STATE_TITLES.accepted }, 'accepted') : null]),
          el('td', { className: 'nowrap' }, advisoryLink(h.advisory))
        ]));
      }
      clear(eol.tbody);
      if (!list.length) {
        messageRow(eol.tbody, eol.columns, 'Every host runs a supported operating system.');
      } else {
        eol.tbody.appendChild(frag);
      }
    }

    function loadSummary() {
      if (loadingSummary) {
        return;
      }
      loadingSummary = true;
      api('GET', '/api/vuln/summary', null, function (err, data) {
        loadingSummary = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the vulnerability summary: ' + err.message);
          return;
        }
        summary = data;
        renderFeed();
        renderPriorities();
        renderTotals();
        renderDepartments();
        renderUpgrades();
        renderEol();
      });
    }

    function findingRow(f) {
      var s = findingState(f);
      return el('tr', {
        className: 'finding-row finding-' + s + (f.ransomware ? ' finding-ransomware' : ''),
        'data-advisory': str(f.advisory), 'data-host': str(f.host_id), 'data-package': str(f.package),
        'data-priority': str(f.priority), 'data-state': s
      }, [
        el('td', { className: 'nowrap' }, [priorityBadge(f.priority), el('div', null, exploitFlags(f))]),
        el('td', { className: 'wrap' }, [hostCell(f.host_id, f.hostname, f.host_label),
          f.department ? el('div', { className: 'muted small' }, String(f.department)) : null]),
        el('td', { className: 'wrap' }, [advisoryLink(f.advisory), cveLinks(f)]),
        el('td', { className: 'wrap' }, [el('span', { className: 'mono' }, str(f.package)),
          f.source && f.source !== f.package ? el('div', { className: 'muted small' }, 'source ' + String(f.source)) : null]),
        el('td', { className: 'wrap' }, versionChange(f)),
        el('td', { className: 'nowrap' }, timeNode(f.first_seen)),
        el('td', { className: 'nowrap' }, [stateBadge(s), s === 'fixed' ? el('div', { className: 'muted small', title: fullDate(f.fixed_at) }, relTime(f.fixed_at)) : null])
      ]);
    }

    function updateExports() {
      var q = { priority: filters.priority, department: filters.department, state: filters.state };
      q.format = 'csv';
      exportCsv.setAttribute('href', '/api/vuln/findings' + encodeQuery(q));
      q.format = 'json';
      exportJson.setAttribute('href', '/api/vuln/findings' + encodeQuery(q));
    }

    function loadFindings() {
      var seq = ++findingsSeq;
      setClass(findings.table, 'loading', true);
      api('GET', '/api/vuln/findings' + encodeQuery({
        priority: filters.priority, department: filters.department, state: filters.state,
        limit: FINDING_PAGE_SIZE, offset: filters.offset
      }), null, function (err, data) {
        var list, frag, k, pages, page;
        if (!view.alive() || seq !== findingsSeq) {
          return;
        }
        setClass(findings.table, 'loading', false);
        if (err) {
          showError('Could not load the findings: ' + err.message);
          if (findingsTotal === null) {
            messageRow(findings.tbody, findings.columns, 'The findings could not be loaded.', 'placeholder-row');
          }
          return;
        }
        list = isArray(data.findings) ? data.findings : [];
        findingsTotal = typeof data.total === 'number' ? data.total : list.length;
        if (filters.offset > 0 && !list.length && findingsTotal > 0) {
          filters.offset = Math.floor((findingsTotal - 1) / FINDING_PAGE_SIZE) * FINDING_PAGE_SIZE;
          loadFindings();
          return;
        }
        frag = document.createDocumentFragment();
        for (k = 0; k < list.length; k++) {
          frag.appendChild(findingRow(list[k] || {}));
        }
        clear(findings.tbody);
        if (!list.length) {
          messageRow(findings.tbody, findings.columns, filters.priority || filters.department || filters.state !== 'open' ?
            'No finding matches the filters.' : 'No open findings. Every host is up to date with the feed, or its risks are accepted.');
        } else {
          findings.tbody.appendChild(frag);
        }
        setText(findingsCount, list.length ? (filters.offset + 1) + EN_DASH + (filters.offset + list.length) + ' of ' +
          plural(findingsTotal, 'finding', 'findings') : plural(findingsTotal, 'finding', 'findings'));
        pages = Math.max(1, Math.ceil(findingsTotal / FINDING_PAGE_SIZE));
        page = Math.floor(filters.offset / FINDING_PAGE_SIZE) + 1;
        setText(pageInfo, 'Page ' + page + ' of ' + pages);
        prev.disabled = filters.offset <= 0;
        next.disabled = filters.offset + FINDING_PAGE_SIZE >= findingsTotal;
      });
    }

    function loadSuppressions() {
      api('GET', '/api/vuln/suppressions', null, function (err, data) {
        var list, active = [], k;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the accepted risks: ' + err.message);
          return;
        }
        list = isArray(data.suppressions) ? data.suppressions : [];
        for (k = 0; k < list.length; k++) {
          if (list[k] && list[k].active) {
            active.push(list[k]);
          }
        }
        clear(suppressionsBox);
        append(suppressionsBox, suppressionTable('vuln-suppressions', active, {
          withAdvisory: true,
          empty: 'No accepted risks are in force.',
          onLift: state.role === 'admin' ? function (id, button) {
            liftSuppression(id, button, reloadAll);
          } : null
        }));
      });
    }

    function reloadAll() {
      loadSummary();
      loadFindings();
      loadSuppressions();
    }

    function applyFilters() {
      filters.priority = prioSelect.value;
      filters.department = depSelect.value;
      filters.state = stateSelect.value || 'open';
      filters.offset = 0;
      updateExports();
      if (summary) {
        renderPriorities();
      }
      loadFindings();
    }

    prioSelect.addEventListener('change', applyFilters, false);
    depSelect.addEventListener('change', applyFilters, false);
    stateSelect.addEventListener('change', applyFilters, false);

    function pickPriority(card) {
      var p = card.getAttribute('data-priority');
      prioSelect.value = filters.priority === p ? '' : p;
      applyFilters();
    }
    prioBox.addEventListener('click', function (ev) {
      var card = closestWithClass(ev.target || ev.srcElement, 'prio-card', prioBox);
      if (card) {
        pickPriority(card);
      }
    }, false);
    prioBox.addEventListener('keydown', function (ev) {
      var card = closestWithClass(ev.target || ev.srcElement, 'prio-card', prioBox);
      if (card && (ev.keyCode === 13 || ev.keyCode === 32)) {
        ev.preventDefault();
        pickPriority(card);
      }
    }, false);
    deps.tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var row = closestWithClass(target, 'department-row', deps.tbody);
      if (!row || !row.getAttribute('data-department')) {
        return;
      }
      if (target && target.tagName === 'A') {
        ev.preventDefault();
      }
      if (!hasOption(depSelect, row.getAttribute('data-department'))) {
        depSelect.appendChild(el('option', { value: row.getAttribute('data-department') }, row.getAttribute('data-department')));
      }
      depSelect.value = row.getAttribute('data-department');
      applyFilters();
      byId('vuln-findings-section').scrollIntoView();
    }, false);
    prev.addEventListener('click', function () {
      if (filters.offset <= 0) {
        return;
      }
      filters.offset = Math.max(0, filters.offset - FINDING_PAGE_SIZE);
      loadFindings();
    }, false);
    next.addEventListener('click', function () {
      if (findingsTotal !== null && filters.offset + FINDING_PAGE_SIZE >= findingsTotal) {
        return;
      }
      filters.offset += FINDING_PAGE_SIZE;
      loadFindings();
    }, false);

    /* The department select starts with the remembered one until the summary lists them. */
    if (filters.department) {
      depSelect.appendChild(el('option', { value: filters.department }, filters.department));
      depSelect.value = filters.department;
    }
    updateExports();
    reloadAll();
    view.every(REFRESH_MS, reloadAll);
  }

  /* ---------- one CVE or advisory ---------- */

  function remedyText(remedy, fallback) {
    var kind = remedy && typeof remedy === 'object' ? str(remedy.kind) : '';
    if (kind === 'fixed-in') {
      return 'Upgrade to ' + str(remedy.version) + ' or later';
    }
    if (kind === 'fixed-after') {
      return 'Upgrade past ' + str(remedy.version) + ' (the last affected version)';
    }
    if (kind === 'no-fix-yet') {
      return 'No fix yet: mitigate, or accept the risk until a fix is published';
    }
    if (kind === 'will-not-fix') {
      return 'The distribution will not fix it in this release' + (remedy.reason ? ' (' + String(remedy.reason) + ')' : '') +
        ': mitigate or accept the risk';
    }
    if (kind === 'upgrade-os') {
      return 'Upgrade the operating system to a supported release' +
        (remedy.extended_until ? ' (extended support until ' + String(remedy.extended_until) + ')' : '');
    }
    return fallback ? String(fallback) : '';
  }

  function showAdvisory(advisoryId) {
    var view = beginView('advisory');
    var app = byId('app');
    var isAdmin = state.role === 'admin';
    var loading = false;
    setTitle(advisoryId);

    var title = el('h1', { className: 'advisory-title mono' }, advisoryId);
    var body = el('div', { id: 'advisory-body' }, el('p', { className: 'placeholder' }, 'Loading' + ELLIPSIS));

    /* The accept-a-risk form is built once, so that a reload does not lose what is typed. */
    var reason = el('textarea', { id: 'suppress-reason', rows: 3, maxlength: 2000, placeholder: 'Why the risk is accepted, e.g. the device is isolated on VLAN 40 until the vendor ships a fix' });
    var today = now();
    var expires = el('input', { id: 'suppress-expires', type: 'date', min: utcDay(today), max: utcDay(today + (MAX_SUPPRESSION_DAYS - 1) * DAY_MS) });
    var hostSelect = el('select', { id: 'suppress-host' }, el('option', { value: '' }, 'Every host'));
    var submit = el('button', { id: 'suppress-submit', type: 'submit', className: 'btn btn-primary' }, 'Accept the risk');
    var formError = el('div', { id: 'suppress-error', className: 'form-error', role: 'alert', hidden: true });
    var formNote = el('div', { id: 'suppress-status', className: 'form-note', role: 'status', hidden: true });
    var form = el('form', { id: 'suppress-form', className: 'bundle-form suppress-form', method: 'post', action: '#/vulns', novalidate: true }, [
      formNote,
      formError,
      el('div', { className: 'field' }, [el('label', { 'for': 'suppress-reason' }, 'Reason'), reason]),
      el('div', { className: 'field-row' }, [
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-expires' }, 'Through (last UTC day it applies, within ' + MAX_SUPPRESSION_DAYS + ' days)'), expires]),
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-host' }, 'Hosts'), hostSelect])
      ]),
      submit,
      el('p', { className: 'muted small' }, 'Accepted findings leave the open lists and counts until the day they expire. ' +
        'The reason, the account and the date go into the audit record.')
    ]);
    var accept = el('section', { className: 'vuln-section', id: 'advisory-accept' }, [
      el('h2', null, 'Accept the risk'),
      isAdmin ? form : el('p', { className: 'muted', id: 'suppress-viewer-note' },
        'Only an admin account can accept a risk; you are signed in as ' + (state.role ? 'a ' + state.role : 'a viewer') + '.')
    ]);

    append(app, el('div', { id: 'advisory-view' }, [
      el('a', { className: 'back-link', id: 'back-link', href: '#/vulns' }, '\u2190 Vulnerabilities'),
      el('div', { className: 'page-head' }, [title, el('span', { className: 'spacer' }), advisorySearchForm()]),
      body,
      accept
    ]));

    function fact(key, label, value, wide) {
      return el('div', { className: wide ? 'fact fact-wide' : 'fact' }, [
        el('dt', null, label),
        el('dd', { 'data-fact': key }, value)
      ]);
    }

    function yesNo(v) {
      return v ? el('span', { className: 'yes' }, 'yes') : el('span', { className: 'no' }, 'no');
    }

    function detailSection(key, d, row) {
      var ex, sev, cves = [], k;
      if (!d) {
        return el('section', { className: 'vuln-section advisory-detail', 'data-advisory': key }, [
          el('h2', null, advisoryLink(key)),
          el('p', { className: 'muted' }, 'The matcher\u2019s evidence for this advisory is not stored.')
        ]);
      }
      ex = d.exploitation || {};
      sev = d.severity || null;
      if (isArray(d.cves)) {
        for (k = 0; k < d.cves.length; k++) {
          cves.push(advisoryLink(d.cves[k]), ' ');
        }
      }
      return el('section', { className: 'vuln-section advisory-detail', 'data-advisory': key }, [
        el('h2', null, [key === advisoryId ? str(key) : advisoryLink(key), row ? ' ' : null, row ? priorityBadge(row.priority) : null]),
        el('dl', { className: 'facts' }, [
          fact('cves', 'CVE ids', cves.length ? cves : orDash('')),
          fact('severity', 'Severity', sev ? [str(sev.level), sev.label && String(sev.label).toLowerCase() !== str(sev.level) ?
            el('span', { className: 'muted' }, ' (' + String(sev.label) + ')') : null] : orDash('')),
          fact('kev', 'Known exploited (CISA KEV)', [yesNo(ex.known_exploited),
            ex.kev_date_added ? el('span', { className: 'muted' }, ' since ' + String(ex.kev_date_added)) : null]),
          fact('ransomware', 'Used by ransomware', ex.ransomware ? el('span', { className: 'flag flag-ransomware' }, 'yes') : yesNo(false)),
          fact('epss', 'EPSS', ex.epss && typeof ex.epss.score === 'number' ?
            [percent(ex.epss.score), el('span', { className: 'muted' }, ' (percentile ' + percent(ex.epss.percentile || 0) + ')')] :
            el('span', { className: 'empty' }, 'not scored')),
          fact('remedy', 'Remedy', remedyText(d.remedy, row ? row.remedy : ''), true),
          fact('record', 'Feed record', d.why ? str(d.why.record) : orDash(''), true),
          fact('range', 'Affected range', d.why ? str(d.why.range) : orDash(''), true),
          fact('comparison', 'Comparison' + (row ? ' (on ' + (row.hostname || row.host_id) + ')' : ''),
            d.why ? el('span', { className: 'mono' }, str(d.why.comparison)) : orDash(''), true)
        ])
      ]);
    }

    function hostsTable(list, several) {
      var columns = [{ label: 'Host' }, { label: 'Department' }];
      if (several) {
        columns.push({ label: 'Advisory' });
      }
      columns.push({ label: 'Package' }, { label: 'Installed \u2192 fixed' }, { label: 'State', className: 'shrink' },
        { label: 'First seen', className: 'shrink' });
      var t = dataTable('advisory-hosts', columns);
      var k, f, s, cells;
      for (k = 0; k < list.length; k++) {
        f = list[k] || {};
        s = findingState(f);
        cells = [
          el('td', { className: 'wrap' }, hostCell(f.host_id, f.hostname, f.host_label)),
          el('td', { className: 'wrap' }, orDash(f.department))
        ];
        if (several) {
          cells.push(el('td', { className: 'nowrap' }, advisoryLink(f.advisory)));
        }
        cells.push(
          el('td', { className: 'wrap mono' }, str(f.package)),
          el('td', { className: 'wrap' }, versionChange(f)),
          el('td', { className: 'nowrap' }, [stateBadge(s), s === 'fixed' ? el('div', { className: 'muted small', title: fullDate(f.fixed_at) }, relTime(f.fixed_at)) : null]),
          el('td', { className: 'nowrap' }, timeNode(f.first_seen))
        );
        t.tbody.appendChild(el('tr', { className: 'advisory-host-row finding-' + s, 'data-host': str(f.host_id),
          'data-advisory': str(f.advisory), 'data-package': str(f.package), 'data-state': s }, cells));
      }
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'No host has or had this finding.');
      }
      return el('div', { className: 'table-wrap' }, t.table);
    }

    function countCard(key, name, n) {
      return el('div', { className: 'summary-card count-card-' + key, 'data-state': key }, [
        el('span', { className: 'value', id: 'advisory-count-' + key }, formatCount(n)),
        el('span', { className: 'name' }, name)
      ]);
    }

    /* The host select offers the hosts the advisory affects. */
    function fillHosts(list) {
      var seen = {}, k, f, current = hostSelect.value;
      clear(hostSelect);
      hostSelect.appendChild(el('option', { value: '' }, 'Every host'));
      for (k = 0; k < list.length; k++) {
        f = list[k] || {};
        if (f.host_id && !seen[f.host_id] && findingState(f) !== 'fixed') {
          seen[f.host_id] = true;
          hostSelect.appendChild(el('option', { value: String(f.host_id) },
            (f.hostname ? String(f.hostname) : String(f.host_id)) + (f.host_label ? ' (' + String(f.host_label) + ')' : '')));
        }
      }
      hostSelect.value = seen[current] ? current : '';
    }

    function render(data, allSuppressions) {
      var advisories = data.advisories && typeof data.advisories === 'object' ? data.advisories : {};
      var list = isArray(data.findings) ? data.findings : [];
      var counts = data.counts || {};
      var ids = {}, keys = [], key, k, j, firstRow = {}, mine = [], details = [];
      ids[advisoryId] = true;
      for (key in advisories) {
        if (Object.prototype.hasOwnProperty.call(advisories, key)) {
          keys.push(key);
          ids[key] = true;
        }
      }
      for (k = 0; k < list.length; k++) {
        if (!list[k]) {
          continue;
        }
        ids[str(list[k].advisory)] = true;
        if (!firstRow[list[k].advisory]) {
          firstRow[list[k].advisory] = list[k];
        }
        if (isArray(list[k].cves)) {
          for (j = 0; j < list[k].cves.length; j++) {
            ids[String(list[k].cves[j])] = true;
          }
        }
      }
      /* Suppressions made under the advisory id or any of its CVE ids. */
      for (k = 0; k < allSuppressions.length; k++) {
        if (allSuppressions[k] && ids[str(allSuppressions[k].advisory)] === true) {
          mine.push(allSuppressions[k]);
        }
      }
      for (k = 0; k < keys.length; k++) {
        details.push(detailSection(keys[k], advisories[keys[k]], firstRow[keys[k]]));
      }
      title.setAttribute('id', 'advisory-title');
      clear(body);
      append(body, [
        !list.length ? el('div', { className: 'notice', id: 'advisory-empty' }, [
          el('p', null, ['No host of this fleet has or had a finding for ', el('span', { className: 'mono' }, advisoryId), '.']),
          el('p', { className: 'muted' }, 'Check the id (e.g. CVE-2024-3094 or DEBIAN-CVE-2024-3094). The feed may not list it, or no installed package is affected.')
        ]) : null,
        list.length ? el('div', { className: 'summary', id: 'advisory-counts' }, [
          countCard('open', 'Open', counts.open),
          countCard('suppressed', 'Accepted risk', counts.suppressed),
          countCard('fixed', 'Fixed', counts.fixed)
        ]) : null,
        details,
        list.length ? el('section', { className: 'vuln-section', id: 'advisory-hosts-section' }, [
          el('h2', null, 'Hosts' + (data.total > list.length ? ' (the first ' + list.length + ' of ' + data.total + ')' : '')),
          hostsTable(list, keys.length > 1)
        ]) : null,
        el('section', { className: 'vuln-section', id: 'advisory-suppressions-section' }, [
          el('h2', null, 'Accepted risks'),
          suppressionTable('advisory-suppressions', mine, {
            withAdvisory: mine.length > 0 && (keys.length > 1 || hasOtherId(mine)),
            empty: 'No risk has been accepted for this advisory.',
            onLift: isAdmin ? function (id, button) {
              liftSuppression(id, button, load);
            } : null
          })
        ])
      ]);
      fillHosts(list);
    }

    function hasOtherId(list) {
      var k;
      for (k = 0; k < list.length; k++) {
        if (str(list[k].advisory) !== advisoryId) {
          return true;
        }
      }
      return false;
    }

    function load() {
      var result = null, suppressions = null, failed = false;
      if (loading) {
        return;
      }
      loading = true;
      function done() {
        if (failed || result === null || suppressions === null) {
          return;
        }
        loading = false;
        clearError();
        render(result, suppressions);
      }
      function fail(err, what) {
        if (failed) {
          return;
        }
        failed = true;
        loading = false;
        showError('Could not load ' + what + ': ' + err.message);
        clear(body);
        append(body, el('div', { className: 'notice', id: 'advisory-error' }, [
          el('p', null, sentence(err.message)),
          el('p', null, el('a', { href: '#/vulns' }, 'Back to the vulnerabilities'))
        ]));
      }
      api('GET', advisoryPath(advisoryId), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          fail(err, 'the advisory');
          return;
        }
        result = data;
        done();
      });
      api('GET', '/api/vuln/suppressions', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          fail(err, 'the accepted risks');
          return;
        }
        suppressions = isArray(data.suppressions) ? data.suppressions : [];
        done();
      });
    }

    function formMessage(box, text) {
      setText(box, text);
      show(box, !!text);
    }

    form.addEventListener('submit', function (ev) {
      var request;
      ev.preventDefault();
      if (submit.disabled) {
        return;
      }
      formMessage(formError, '');
      formMessage(formNote, '');
      /* The server checks everything and says what is wrong, in its words. */
      request = { advisory: advisoryId, reason: reason.value, expires: trim(expires.value) };
      if (hostSelect.value) {
        request.host_id = hostSelect.value;
      }
      submit.disabled = true;
      api('POST', '/api/vuln/suppressions', request, function (err, data) {
        var s;
        if (!view.alive()) {
          return;
        }
        submit.disabled = false;
        if (err) {
          formMessage(formError, sentence(err.message));
          return;
        }
        s = data && data.suppression ? data.suppression : {};
        formMessage(formNote, 'Risk accepted for ' + (s.host_id ? (s.host_label ? String(s.host_label) : String(s.host_id)) : 'every host') +
          ' through ' + (typeof s.expires_at === 'number' ? utcDay(s.expires_at - 1) : trim(expires.value)) + ' (accepted risk #' + str(s.id) + ').');
        reason.value = '';
        load();
      });
    }, false);

    load();
  }

  /* ---------- a host's findings (tab of the host page) ---------- */

  function findingsTab(view, hostId, panel, tab) {
    var loaded = false;
    var count = el('span', { className: 'info', id: 'host-findings-count' });
    var t = dataTable('host-findings', [
      { label: 'State', className: 'shrink' },
      { label: 'Priority', className: 'shrink' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Installed \u2192 fixed' },
      { label: 'Why', title: 'The feed record, range and comparison that produced the finding' }
    ]);
    messageRow(t.tbody, t.columns, 'Loading findings' + ELLIPSIS, 'placeholder-row');
    var h = dataTable('host-finding-history', [
      { label: 'Time', className: 'shrink' },
      { label: 'Change', className: 'shrink' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Version' },
      { label: 'Cause', className: 'shrink', title: 'What changed: the host\u2019s packages or the vulnerability feed' }
    ]);
    messageRow(h.tbody, h.columns, 'Loading' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [count, el('span', { className: 'spacer' }),
        el('a', { className: 'btn btn-small', id: 'host-findings-export', href: '/api/vuln/findings' + encodeQuery({ host: hostId, state: 'all', format: 'csv' }),
          title: 'Every finding of this host as a CSV file' }, 'Download CSV')]),
      el('div', { className: 'table-wrap' }, t.table),
      el('h2', { className: 'panel-heading' }, 'Finding history'),
      el('div', { className: 'table-wrap' }, h.table),
      el('p', { className: 'legend' }, 'The latest changes, newest first. Open findings come first above; accepted risks are hidden from the fleet counts until they expire.')
    ]);

    function render(data) {
      var list = isArray(data.findings) ? data.findings.slice(0) : [];
      var history = isArray(data.history) ? data.history : [];
      var frag = document.createDocumentFragment();
      var k, f, s, e, open = 0, urgent = 0, accepted = 0, fixed = 0;
      /* Open first, then accepted, then fixed; the server's urgency order within each. */
      for (k = 0; k < list.length; k++) {
        list[k] = { f: list[k] || {}, i: k };
      }
      list.sort(function (a, b) {
        var d = STATE_RANK[findingState(a.f)] - STATE_RANK[findingState(b.f)];
        return d !== 0 ? d : a.i - b.i;
      });
      for (k = 0; k < list.length; k++) {
        f = list[k].f;
        s = findingState(f);
        if (s === 'open') {
          open += 1;
          if (f.priority === 'ransomware' || f.priority === 'exploited') {
            urgent += 1;
          }
        } else if (s === 'accepted') {
          accepted += 1;
        } else {
          fixed += 1;
        }
        frag.appendChild(el('tr', {
          className: 'host-finding-row finding-' + s + (f.ransomware && s === 'open' ? ' finding-ransomware' : ''),
          'data-advisory': str(f.advisory), 'data-package': str(f.package), 'data-state': s, 'data-priority': str(f.priority)
        }, [
          el('td', { className: 'nowrap' }, [stateBadge(s), s === 'fixed' ? el('div', { className: 'muted small', title: fullDate(f.fixed_at) }, relTime(f.fixed_at)) : null]),
          el('td', { className: 'nowrap' }, [priorityBadge(f.priority), el('div', null, exploitFlags(f))]),
          el('td', { className: 'wrap' }, [advisoryLink(f.advisory), cveLinks(f)]),
          el('td', { className: 'wrap' }, [el('span', { className: 'mono' }, str(f.package)),
            f.source && f.source !== f.package ? el('div', { className: 'muted small' }, 'source ' + String(f.source)) : null]),
          el('td', { className: 'wrap' }, versionChange(f)),
          el('td', { className: 'wrap small why' }, str(f.why))
        ]));
      }
      clear(t.tbody);
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'No findings: the feed lists no vulnerability for this host\u2019s packages.');
      } else {
        t.tbody.appendChild(frag);
      }
      setText(count, plural(open, 'open finding', 'open findings') + (urgent ? ', ' + urgent + ' known exploited' : '') +
        ', ' + accepted + ' accepted, ' + fixed + ' fixed');
      setText(tab.count, String(open));
      setClass(tab.count, 'count-urgent', urgent > 0);
      show(tab.count, true);

      frag = document.createDocumentFragment();
      for (k = 0; k < history.length; k++) {
        e = history[k] || {};
        frag.appendChild(el('tr', { className: 'finding-history-row', 'data-advisory': str(e.advisory), 'data-change': str(e.change) }, [
          el('td', { className: 'nowrap' }, dateCellOf(e.time)),
          el('td', { className: 'nowrap' }, el('span', { className: e.change === 'fixed' ? 'kind kind-added' : (e.change === 'appeared' ? 'kind kind-removed' : 'kind') }, str(e.change))),
          el('td', { className: 'wrap' }, advisoryLink(e.advisory)),
          el('td', { className: 'wrap mono' }, str(e.package)),
          el('td', { className: 'wrap mono' }, str(e.version)),
          el('td', { className: 'nowrap muted' }, e.cause === 'inventory' ? 'package change' : (e.cause === 'feed' ? 'feed update' : str(e.cause)))
        ]));
      }
      clear(h.tbody);
      if (!history.length) {
        messageRow(h.tbody, h.columns, 'No finding has appeared or been fixed yet.');
      } else {
        h.tbody.appendChild(frag);
      }
    }

    function load() {
      api('GET', hostPath(hostId, '/findings'), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the findings: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The findings could not be loaded.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        render(data);
      });
    }

    return { activate: load };
  }

  /* ---------- a host's malware tab: scan now, commands, quarantine ---------- */

  /* The terminal polls the server for commands (the server cannot reach it), so a
     command is queued here and its state follows: queued, running, done or failed. */
  function commandState(c) {
    if (c.done_at !== null && c.done_at !== undefined) {
      return c.ok ? 'done' : 'failed';
    }
    return c.picked_at !== null && c.picked_at !== undefined ? 'running' : 'queued';
  }

  var COMMAND_STATE_CLASS = { queued: 'fstate-accepted', running: 'fstate-accepted', done: 'fstate-fixed', failed: 'fstate-open' };
  var COMMAND_TITLES = { scan: 'Scan', 'quarantine.restore': 'Restore', 'quarantine.delete': 'Delete' };

  function commandWhat(c) {
    var args = c.args || {};
    var paths = isArray(args.paths) ? args.paths : [];
    if (c.kind === 'scan') {
      return paths.length ? paths.join(', ') : 'the terminal\u2019s configured paths';
    }
    return args.id ? 'quarantined file ' + String(args.id) : '';
  }

  function commandOutcome(c) {
    var r = c.result;
    if (r === null || r === undefined) {
      return '';
    }
    if (typeof r === 'string') {
      return r;
    }
    if (c.kind === 'scan') {
      return plural(r.files_scanned || 0, 'file', 'files') + ' scanned, ' + (r.infected || 0) + ' infected' +
        (r.quarantined ? ', ' + r.quarantined + ' quarantined' : '') +
        (r.errors ? ', ' + plural(r.errors, 'error', 'errors') : '') + (r.stopped ? ' (stopped early)' : '');
    }
    if (c.kind === 'quarantine.restore') {
      return 'restored to ' + str(r.restored_to || r.path);
    }
    if (c.kind === 'quarantine.delete') {
      return 'deleted ' + str(r.path);
    }
    return '';
  }

  function malwareTab(view, hostId, panel, tab) {
    var isAdmin = state.role === 'admin';
    var commandsLoaded = false;
    var note = el('div', { id: 'malware-status', className: 'form-note', role: 'status', hidden: true });
    var scanButton = isAdmin ? el('button', {
      type: 'button', className: 'btn btn-primary', id: 'scan-now',
      title: 'Ask the terminal to scan its configured paths now; it picks the command up within about 10 seconds'
    }, 'Scan now') : null;
    var c = dataTable('host-commands', [
      { label: 'Queued', className: 'shrink' },
      { label: 'Command', className: 'shrink' },
      { label: 'On' },
      { label: 'State', className: 'shrink' },
      { label: 'Result' }
    ]);
    messageRow(c.tbody, c.columns, 'Loading commands' + ELLIPSIS, 'placeholder-row');
    var qColumns = [
      { label: 'Quarantined', className: 'shrink' },
      { label: 'Original path' },
      { label: 'Detections' },
      { label: 'Size', className: 'num shrink' },
      { label: 'SHA-256', className: 'shrink' }
    ];
    if (isAdmin) {
      qColumns.push({ label: '', className: 'shrink' });
    }
    var q = dataTable('host-quarantine', qColumns);
    messageRow(q.tbody, q.columns, 'Loading' + ELLIPSIS, 'placeholder-row');
    append(panel, [
      el('div', { className: 'toolbar' }, [
        el('span', { className: 'info' }, 'Commands reach the terminal when its agent next asks the server (about every 10 s).'),
        el('span', { className: 'spacer' }),
        scanButton
      ]),
      isAdmin ? null : el('p', { className: 'muted', id: 'malware-viewer-note' },
        'Only an admin account can send commands; you are signed in as ' + (state.role ? 'a ' + state.role : 'a viewer') + '.'),
      note,
      el('h2', { className: 'panel-heading' }, 'Quarantined files'),
      el('div', { className: 'table-wrap' }, q.table),
      el('h2', { className: 'panel-heading' }, 'Commands'),
      el('div', { className: 'table-wrap' }, c.table)
    ]);

    function say(text) {
      setText(note, text);
      show(note, !!text);
    }

    function send(kind, args, button, done) {
      if (button) {
        button.disabled = true;
      }
      api('POST', hostPath(hostId, '/commands'), { kind: kind, args: args }, function (err) {
        if (!view.alive()) {
          return;
        }
        if (button) {
          button.disabled = false;
        }
        if (err) {
          showError('Could not send the command: ' + err.message);
          return;
        }
        clearError();
        say(done);
        loadCommands();
      });
    }

    if (scanButton) {
      scanButton.addEventListener('click', function () {
        send('scan', { paths: [] }, scanButton, 'Scan queued; the terminal starts it when its agent next asks the server.');
      }, false);
    }

    q.tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var id;
      if (!target || target.tagName !== 'BUTTON' || target.disabled) {
        return;
      }
      id = target.getAttribute('data-id');
      if (hasClass(target, 'quarantine-restore')) {
        send('quarantine.restore', { id: id }, target, 'Restore queued for quarantined file ' + id + '.');
      } else if (hasClass(target, 'quarantine-delete')) {
        if (!window.confirm('Delete the quarantined file ' + (target.getAttribute('data-path') || id) +
            ' for good? It cannot be restored afterwards.')) {
          return;
        }
        send('quarantine.delete', { id: id }, target, 'Delete queued for quarantined file ' + id + '.');
      }
    }, false);

    function renderCommands(list) {
      var frag = document.createDocumentFragment();
      var k, cmd, s, busy = 0;
      for (k = 0; k < list.length; k++) {
        cmd = list[k] || {};
        s = commandState(cmd);
        if (s === 'queued' || s === 'running') {
          busy += 1;
        }
        frag.appendChild(el('tr', { className: 'command-row command-' + s, 'data-command': str(cmd.id), 'data-kind': str(cmd.kind), 'data-state': s }, [
          el('td', { className: 'nowrap' }, [dateCellOf(cmd.created_at), el('div', { className: 'muted small' }, 'by ' + str(cmd.created_by))]),
          el('td', { className: 'nowrap' }, COMMAND_TITLES[cmd.kind] || str(cmd.kind)),
          el('td', { className: 'wrap mono small' }, commandWhat(cmd)),
          el('td', { className: 'nowrap' }, el('span', { className: 'fstate command-state ' + (COMMAND_STATE_CLASS[s] || '') }, s)),
          el('td', { className: 'wrap command-result' }, commandOutcome(cmd))
        ]));
      }
      clear(c.tbody);
      if (!list.length) {
        messageRow(c.tbody, c.columns, 'No command has been sent to this terminal yet.');
      } else {
        c.tbody.appendChild(frag);
      }
      return busy;
    }

    function renderQuarantine(list) {
      var frag = document.createDocumentFragment();
      var k, f, cells;
      for (k = 0; k < list.length; k++) {
        f = list[k] || {};
        cells = [
          el('td', { className: 'nowrap' }, dateCellOf(f.quarantined_at)),
          el('td', { className: 'wrap mono' }, str(f.path)),
          el('td', { className: 'wrap' }, isArray(f.detections) ? f.detections.join(', ') : ''),
          el('td', { className: 'num nowrap' }, formatBytes(f.size)),
          el('td', { className: 'nowrap mono small', title: str(f.sha256) }, str(f.sha256).substring(0, 12) + (f.sha256 ? ELLIPSIS : ''))
        ];
        if (isAdmin) {
          cells.push(el('td', { className: 'nowrap' }, [
            el('button', { type: 'button', className: 'btn btn-small quarantine-restore', 'data-id': str(f.id),
              title: 'Put the file back where it was, with its owner, mode and times' }, 'Restore'), ' ',
            el('button', { type: 'button', className: 'btn btn-small quarantine-delete', 'data-id': str(f.id), 'data-path': str(f.path),
              title: 'Delete the file from the vault for good' }, 'Delete')
          ]));
        }
        frag.appendChild(el('tr', { className: 'quarantine-row', 'data-quarantine-id': str(f.id) }, cells));
      }
      clear(q.tbody);
      if (!list.length) {
        messageRow(q.tbody, q.columns, 'This terminal holds no file in quarantine.');
      } else {
        q.tbody.appendChild(frag);
      }
      setText(tab.count, String(list.length));
      setClass(tab.count, 'count-urgent', list.length > 0);
      show(tab.count, list.length > 0);
    }

    function loadQuarantine() {
      api('GET', hostPath(hostId, '/quarantine'), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the quarantined files: ' + err.message);
          return;
        }
        renderQuarantine(isArray(data.files) ? data.files : []);
      });
    }

    function loadCommands() {
      api('GET', hostPath(hostId, '/commands'), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the commands: ' + err.message);
          if (!commandsLoaded) {
            messageRow(c.tbody, c.columns, 'The commands could not be loaded.', 'placeholder-row');
          }
          return;
        }
        commandsLoaded = true;
        renderCommands(isArray(data.commands) ? data.commands : []);
        /* A finished command may have changed the quarantine. */
        loadQuarantine();
      });
    }

    /* Polled while the tab is on screen; the timer ends with the host view. */
    view.every(COMMAND_REFRESH_MS, function () {
      if (!panel.hasAttribute('hidden')) {
        loadCommands();
      }
    });

    return { activate: loadCommands };
  }

  /* ------------------------------------------------------------------ */
  /* Start                                                               */
  /* ------------------------------------------------------------------ */

  function bootFailed(message) {
    var app = byId('app');
    clear(app);
    showError(message);
    append(app, el('div', { className: 'notice', id: 'boot-error' }, [
      el('h1', null, 'The console could not start'),
      el('p', null, 'Check that the wardwatch server is running and reachable from this computer, then try again.'),
      el('p', null, el('button', {
        type: 'button', className: 'btn btn-primary', id: 'retry-button',
        onclick: function () { boot(); }
      }, 'Try again'))
    ]));
  }

  function boot() {
    var app = byId('app');
    clear(app);
    append(app, el('p', { className: 'placeholder', id: 'boot-message' }, 'Loading the wardwatch console' + ELLIPSIS));
    api('GET', '/api/me', null, function (err, data) {
      if (err && err.status !== 401) {
        bootFailed('The console could not load: ' + err.message);
        return;
      }
      clearError();
      state.user = !err && data && data.username ? String(data.username) : null;
      state.role = !err && data && data.role ? String(data.role) : null;
      state.booted = true;
      updateHeader();
      route();
    }, { allow401: true });
  }

  function start() {
    byId('error-dismiss').addEventListener('click', clearError, false);
    byId('logout-button').addEventListener('click', logout, false);
    window.addEventListener('hashchange', route, false);
    boot();
  }

  /* An unexpected script error must not leave a blank page without a word. */
  window.onerror = function (message) {
    try {
      showError('The console hit an unexpected problem (' + message + '). Reload the page to continue.');
    } catch (e) { /* nothing more to do */ }
    return false;
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, false);
  } else {
    start();
  }
}());
