/*
 * wardwatch console, lib.js: the shared library every view file builds on. It creates
 * the one global, `wardwatch`, with the console's state, DOM builders, formatting and
 * time helpers, the error banner, the API request helper, view lifecycle and navigation,
 * and the pieces several views share (tables, pagers, search boxes, row clicks).
 *
 * The console is plain ES5 on purpose (no modules, no let/const, no arrow functions, no
 * template literals, no Promise, no fetch) so that the older browsers still found on
 * hospital terminals can run it. No external resources are loaded.
 *
 * Everything that comes from the API is outside data (host names, package names,
 * account names...): it is only ever inserted as DOM text nodes or attribute values,
 * never through innerHTML.
 *
 * Load order (index.html): lib.js first, then the view files, which register themselves
 * in wardwatch.views (and the host page's tabs in wardwatch.hostTabs), then app.js.
 */
var wardwatch = (function () {
  'use strict';

  var ww = {
    views: {},     // name -> function showing the view; filled by the view files
    hostTabs: {},  // tab id -> function(view, hostId, panel, tab) building a host page tab
    route: null    // set by app.js: shows the view the location's hash names
  };

  var REFRESH_MS = 10000;
  var SEARCH_DELAY_MS = 300;
  var REQUEST_TIMEOUT_MS = 20000;

  var ELLIPSIS = '\u2026';
  var DASH = '\u2014';
  var EN_DASH = '\u2013';

  var state = {
    booted: false,
    user: null,          // logged-in user name, null when signed out
    role: null,          // 'admin', 'analyst', 'auditor' or 'operator' (from /api/me)
    may: {},             // what the role may do (from /api/me): act, accept_risk, change_settings, manage_accounts, read_audit
    departments: [],     // an operator's departments
    secondFactor: false, // whether the account signs in with a code as well
    returnTo: null,      // route to go back to after signing in
    loginNotice: '',     // shown above the login form (e.g. session ended)
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

  /* A form's note or error box: shows the text, or hides the box when there is none. */
  function showMessage(box, text) {
    setText(box, text);
    show(box, !!text);
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

  /* ------------------------------------------------------------------ */
  /* Formatting                                                          */
  /* ------------------------------------------------------------------ */

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
    /* Grouped as the user's language groups digits (i18n.js), else with commas. */
    if (ww.i18n) {
      return ww.i18n.number(n);
    }
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
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

  /* A message as a sentence: ends with a full stop unless it already ends a sentence. */
  function sentence(text) {
    var t = trim(str(text));
    return /[.!?]$/.test(t) ? t : t + '.';
  }

  function yesNo(v) {
    return v ? el('span', { className: 'yes' }, 'yes') : el('span', { className: 'no' }, 'no');
  }

  /* "a viewer", "an admin"...: the signed-in account's role, for notes about what it may do. */
  function roleText() {
    return state.role ? 'an ' + state.role : 'a signed-in user';
  }

  /* Whether the signed-in account may take an action (the server checks it again). */
  function may(permission) {
    return !!(state.may && state.may[permission] === true);
  }

  /* Takes what /api/me answered: the user, the role, its permissions and departments. */
  function setAccount(me) {
    state.user = me && me.username ? String(me.username) : null;
    state.role = me && me.role ? String(me.role) : null;
    state.may = me && me.may && typeof me.may === 'object' ? me.may : {};
    state.departments = me && me.departments && me.departments.length ? me.departments.map(String) : [];
    state.secondFactor = !!(me && me.second_factor === true);
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

  /* "2025-11-23 03:40:00 (5 min ago)" on one line, the full date as tooltip. */
  function dateAndAgoNodes(ms) {
    return [el('span', { title: fullDate(ms) }, shortDate(ms)), ' ',
      el('span', { className: 'muted' }, '(' + relTime(ms) + ')')];
  }

  /* The same for a value that may be missing or not a time: a dash then. */
  function dateAndAgo(ms) {
    if (ms === null || ms === undefined || typeof ms !== 'number') {
      return orDash('');
    }
    return dateAndAgoNodes(ms);
  }

  /* A table cell's date over its relative time; a dash (with emptyTitle) for null. */
  function dateCell(ms, emptyTitle) {
    if (ms === null || ms === undefined) {
      return el('span', { className: 'empty', title: emptyTitle || null }, DASH);
    }
    return [el('span', { title: fullDate(ms) }, shortDate(ms)), el('div', { className: 'muted small' }, relTime(ms))];
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
      finish({ status: status, message: errorMessage(status, data), data: data });
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
    setAccount(null);
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
  /* Views and navigation                                                */
  /* ------------------------------------------------------------------ */

  function navigate(hash) {
    if (location.hash === hash) {
      ww.route();
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

  function updateHeader() {
    var signedIn = state.user !== null;
    setText(byId('current-user'), signedIn ? state.user : '');
    byId('current-user').setAttribute('title', signedIn && state.role ? state.role + ' account' +
      (state.departments.length ? ' (' + state.departments.join(', ') + ')' : '') : '');
    show(byId('userbox'), signedIn);
    show(byId('main-nav'), signedIn);
    /* Views a role cannot open are not offered; an operator sees its terminals only. */
    var fleet = state.role !== 'operator';
    ['nav-incidents', 'nav-vulns', 'nav-patches', 'nav-backups', 'nav-bundles'].forEach(function (id) {
      show(byId(id), signedIn && fleet);
    });
    show(byId('nav-audit'), signedIn && may('read_audit'));
    show(byId('nav-users'), signedIn && may('manage_accounts'));
    /* The header in the user's language. */
    if (ww.t) {
      ['overview', 'hosts', 'alerts', 'incidents', 'vulns', 'patches', 'backups', 'bundles', 'audit', 'users'].forEach(function (name) {
        setText(byId('nav-' + name), ww.t('nav.' + name));
      });
      setText(byId('user-label'), ww.t('nav.signedInAs'));
      setText(byId('logout-button'), ww.t('nav.logout'));
      document.documentElement.lang = ww.i18n.lang() === 'zh' ? 'zh-CN' : 'en';
    }
  }

  function setActiveNav(viewName) {
    var hostsLink = byId('nav-hosts');
    var alertsLink = byId('nav-alerts');
    var bundlesLink = byId('nav-bundles');
    var backupsLink = byId('nav-backups');
    if (backupsLink) {
      setClass(backupsLink, 'active', viewName === 'backups');
    }
    var vulnsLink = byId('nav-vulns');
    if (vulnsLink) {
      setClass(vulnsLink, 'active', viewName === 'vulns' || viewName === 'advisory');
    }
    if (bundlesLink) {
      setClass(bundlesLink, 'active', viewName === 'bundles');
    }
    var patchesLink = byId('nav-patches');
    if (patchesLink) {
      setClass(patchesLink, 'active', viewName === 'patches');
    }
    var incidentsLink = byId('nav-incidents');
    if (incidentsLink) {
      setClass(incidentsLink, 'active', viewName === 'incidents' || viewName === 'incident');
    }
    var auditLink = byId('nav-audit');
    if (auditLink) {
      setClass(auditLink, 'active', viewName === 'audit');
    }
    var overviewLink = byId('nav-overview');
    if (overviewLink) {
      setClass(overviewLink, 'active', viewName === 'overview');
    }
    var usersLink = byId('nav-users');
    if (usersLink) {
      setClass(usersLink, 'active', viewName === 'users');
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
  /* Building blocks of the views                                        */
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

  /* A big number with its name under it, filled in later through the value's id. */
  function summaryCard(id, name, cls) {
    return el('div', { className: 'summary-card ' + cls }, [
      el('span', { className: 'value', id: id }, DASH),
      el('span', { className: 'name' }, name)
    ]);
  }

  /* One term of a <dl class="facts">; ddAttrs names the value (an id or data-fact). */
  function fact(ddAttrs, label, value, wide) {
    return el('div', { className: wide ? 'fact fact-wide' : 'fact' }, [
      el('dt', null, label),
      el('dd', ddAttrs, value)
    ]);
  }

  /* "← All hosts": the link above a page back to its list. */
  function backLink(href, text) {
    return el('a', { className: 'back-link', id: 'back-link', href: href }, '\u2190 ' + text);
  }

  /* A notice in place of a page that could not be shown, with a way back. */
  function noticeWithLink(id, message, href, linkText) {
    return el('div', { className: 'notice', id: id }, [
      el('p', null, message),
      el('p', null, el('a', { href: href }, linkText))
    ]);
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

  /* The row "Loading packages…" of a table (t from dataTable) before its first answer. */
  function loadingRow(t, text) {
    messageRow(t.tbody, t.columns, text + ELLIPSIS, 'placeholder-row');
  }

  /* Puts the rows (a fragment holding count rows) into a table, or emptyText if none. */
  function fillTable(t, rows, count, emptyText) {
    clear(t.tbody);
    if (count === 0) {
      messageRow(t.tbody, t.columns, emptyText);
    } else {
      t.tbody.appendChild(rows);
    }
  }

  /*
   * A load function for a table that shows one GET answer: render(data) on success; on
   * failure the error banner ("Could not load the WHAT: ...") and, before any answer was
   * shown, a row saying the WHAT could not be loaded.
   */
  function tableLoader(view, path, what, t, render) {
    var loaded = false;
    return function () {
      api('GET', path, null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the ' + what + ': ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The ' + what + ' could not be loaded.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        render(data);
      });
    };
  }

  /* A click anywhere on a row of tbody with class rowClass opens hashOf(the row's attr),
     unless the click was on a link or the user is selecting text. */
  function openRowOnClick(tbody, rowClass, attr, hashOf) {
    tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var row, selection;
      if (target && target.tagName === 'A') {
        return;
      }
      row = closestWithClass(target, rowClass, tbody);
      if (!row) {
        return;
      }
      selection = window.getSelection ? String(window.getSelection()) : '';
      if (selection) {
        return;
      }
      navigate(hashOf(row.getAttribute(attr)));
    }, false);
  }

  /* Calls apply() once typing in a search or filter box has paused for delayMs; with
     enterApplies, Enter applies at once. The timer ends with the view. */
  function onTyping(view, input, delayMs, apply, enterApplies) {
    var timer = null;
    function fire() {
      timer = null;
      apply();
    }
    function restart() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = view.later(delayMs, fire);
    }
    input.addEventListener('input', restart, false);
    input.addEventListener('search', restart, false);
    input.addEventListener('keyup', function (ev) {
      if (enterApplies && ev.keyCode === 13) {
        if (timer) {
          clearTimeout(timer);
          timer = null;
        }
        apply();
      } else {
        restart();
      }
    }, false);
  }

  /*
   * "‹ Previous  Page 2 of 7  Next ›" over a list fetched by offset, pageSize at a time.
   * where() gives the list's current { offset, total } (total null before the first
   * answer); go(offset) loads another page. update(offset, total) after each answer.
   * The buttons get the ids PREFIX-prev and PREFIX-next, the page info PREFIX-page.
   */
  function offsetPager(idPrefix, pageSize, where, go) {
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: idPrefix + '-prev', disabled: true }, '\u2039 Previous');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: idPrefix + '-next', disabled: true }, 'Next \u203a');
    var pageInfo = el('span', { className: 'page-info', id: idPrefix + '-page' });
    prev.addEventListener('click', function () {
      var at = where();
      if (at.offset <= 0) {
        return;
      }
      go(Math.max(0, at.offset - pageSize));
    }, false);
    next.addEventListener('click', function () {
      var at = where();
      if (at.total !== null && at.offset + pageSize >= at.total) {
        return;
      }
      go(at.offset + pageSize);
    }, false);
    return {
      node: el('span', { className: 'pager' }, [prev, pageInfo, next]),
      update: function (offset, total) {
        var pages = Math.max(1, Math.ceil(total / pageSize));
        var page = Math.floor(offset / pageSize) + 1;
        setText(pageInfo, 'Page ' + page + ' of ' + pages);
        prev.disabled = offset <= 0;
        next.disabled = offset + pageSize >= total;
      }
    };
  }

  /* The offset of the last page of a list of total items (when it shrank under the page
     on screen). */
  function lastPageOffset(total, pageSize) {
    return Math.floor((total - 1) / pageSize) * pageSize;
  }

  /* ------------------------------------------------------------------ */
  /* The library's names                                                 */
  /* ------------------------------------------------------------------ */

  ww.REFRESH_MS = REFRESH_MS;
  ww.SEARCH_DELAY_MS = SEARCH_DELAY_MS;
  ww.ELLIPSIS = ELLIPSIS;
  ww.DASH = DASH;
  ww.EN_DASH = EN_DASH;
  ww.state = state;

  ww.byId = byId;
  ww.isArray = isArray;
  ww.append = append;
  ww.el = el;
  ww.clear = clear;
  ww.setText = setText;
  ww.show = show;
  ww.showMessage = showMessage;
  ww.hasClass = hasClass;
  ww.setClass = setClass;
  ww.closestWithClass = closestWithClass;

  ww.orDash = orDash;
  ww.str = str;
  ww.trim = trim;
  ww.plural = plural;
  ww.formatCount = formatCount;
  ww.formatBytes = formatBytes;
  ww.sentence = sentence;
  ww.yesNo = yesNo;
  ww.roleText = roleText;
  ww.may = may;
  ww.setAccount = setAccount;

  ww.now = now;
  ww.pad2 = pad2;
  ww.shortDate = shortDate;
  ww.fullDate = fullDate;
  ww.relTime = relTime;
  ww.timeNode = timeNode;
  ww.dateAndAgoNodes = dateAndAgoNodes;
  ww.dateAndAgo = dateAndAgo;
  ww.dateCell = dateCell;
  ww.noteServerClock = noteServerClock;

  ww.showError = showError;
  ww.clearError = clearError;

  ww.encodeQuery = encodeQuery;
  ww.hostPath = hostPath;
  ww.errorMessage = errorMessage;
  ww.api = api;
  ww.sessionEnded = sessionEnded;

  ww.navigate = navigate;
  ww.hostHash = hostHash;
  ww.beginView = beginView;
  ww.endView = endView;
  ww.updateHeader = updateHeader;
  ww.setTitle = setTitle;

  ww.hostStatus = hostStatus;
  ww.statusBadge = statusBadge;
  ww.summaryCard = summaryCard;
  ww.fact = fact;
  ww.backLink = backLink;
  ww.noticeWithLink = noticeWithLink;
  ww.dataTable = dataTable;
  ww.messageRow = messageRow;
  ww.loadingRow = loadingRow;
  ww.fillTable = fillTable;
  ww.tableLoader = tableLoader;
  ww.openRowOnClick = openRowOnClick;
  ww.onTyping = onTyping;
  ww.offsetPager = offsetPager;
  ww.lastPageOffset = lastPageOffset;

  return ww;
}());
