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
    language: '',        // the account's chosen language: 'en', 'zh' or '' (as the browser)
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
      return el('span', { className: 'empty', title: ww.t('common.notReported') }, DASH);
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

  /* "1.2 MB", "512 bytes" (the units stay as they are in every language). */
  function formatBytes(n) {
    var units = ['KB', 'MB', 'GB', 'TB'];
    var i = -1;
    if (typeof n !== 'number' || isNaN(n)) {
      return DASH;
    }
    if (n < 1024) {
      return ww.t(n === 1 ? 'common.byte' : 'common.bytes', { n: n });
    }
    while (n >= 1024 && i < units.length - 1) {
      n = n / 1024;
      i += 1;
    }
    return (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10) + ' ' + units[i];
  }

  /* A message as a sentence: ends with a full stop unless it already ends a sentence
     (with . ! ? or their Chinese forms). */
  function sentence(text) {
    var t = trim(str(text));
    return /[.!?\u3002\uff01\uff1f]$/.test(t) ? t : t + '.';
  }

  function yesNo(v) {
    return v ? el('span', { className: 'yes' }, ww.t('common.yes')) : el('span', { className: 'no' }, ww.t('common.no'));
  }

  /* Whether the console has a word for the key (in English, which has them all). */
  function hasWord(key) {
    return !!(ww.i18n && Object.prototype.hasOwnProperty.call(ww.i18n.words.en, key));
  }

  /* A role's name in the user's language ('admin', in Chinese 管理员); a role the console
     does not know as the server names it. */
  function roleName(role) {
    return hasWord('common.role.' + role) ? ww.t('common.role.' + role) : String(role);
  }

  /* "an admin", "an analyst"...: the signed-in account's role, for notes about what it may do. */
  function roleText() {
    return state.role ? ww.t('common.roleText', { role: roleName(state.role) }) : ww.t('common.roleText.none');
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
    state.language = me && (me.language === 'en' || me.language === 'zh') ? me.language : '';
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

  /* "12 s ago", "5 min ago", "3 h ago", "4 d ago", "in 2 h" (in Chinese "5 分钟前"). */
  function relTime(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) {
      return ww.t('time.never');
    }
    var diff = now() - ms;
    var future = diff < 0;
    var s = Math.floor(Math.abs(diff) / 1000);
    var text;
    if (future && s < 60) {
      return ww.t('time.justNow');
    }
    if (s < 1) {
      return ww.t('time.justNow');
    }
    if (s < 60) {
      text = ww.t('time.s', { n: s });
    } else if (s < 3600) {
      text = ww.t('time.min', { n: Math.floor(s / 60) });
    } else if (s < 48 * 3600) {
      text = ww.t('time.h', { n: Math.floor(s / 3600) });
    } else {
      text = ww.t('time.d', { n: Math.floor(s / 86400) });
    }
    return ww.t(future ? 'time.in' : 'time.ago', { t: text });
  }

  /* A relative time with the full date as tooltip; "never" for null. */
  function timeNode(ms, className) {
    if (ms === null || ms === undefined) {
      return el('span', { className: 'empty' + (className ? ' ' + className : '') }, ww.t('time.never'));
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
      return ww.t('error.unavailable', { status: status });
    }
    if (status === 404) {
      return ww.t('error.notFound');
    }
    return ww.t('error.http', { status: status });
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
          message: timedOut ? ww.t('error.timeout') : ww.t('error.unreachable')
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
          finish({ status: status, message: ww.t('error.unreadable') });
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
      finish({ status: 0, message: ww.t('error.timeout') });
    }, REQUEST_TIMEOUT_MS);
    try {
      xhr.send(body !== undefined && body !== null ? JSON.stringify(body) : null);
    } catch (e) {
      finish({ status: 0, message: ww.t('error.sendFailed', { message: e.message }) });
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
      state.loginNotice = ww.t('app.sessionEnded');
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
    var role, dismiss;
    setText(byId('current-user'), signedIn ? state.user : '');
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
      /* "admin account (Radiology, ICU)" as the user name's tooltip. */
      role = signedIn && state.role ? roleName(state.role) : '';
      byId('current-user').setAttribute('title', !role ? '' : state.departments.length ?
        ww.t('app.roleAccountIn', { role: role, departments: state.departments.join(ww.t('common.listSep')) }) :
        ww.t('app.roleAccount', { role: role }));
      byId('brand').setAttribute('title', ww.t('app.brand'));
      dismiss = byId('error-dismiss');
      dismiss.setAttribute('title', ww.t('common.dismiss'));
      dismiss.setAttribute('aria-label', ww.t('common.dismiss'));
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

  /* A host's status ('online', 'offline', 'revoked') as a badge in the user's language;
     another status as the code, without a tooltip. */
  function statusBadge(status) {
    var known = hasWord('common.status.' + status);
    return el('span', { className: 'badge badge-' + status, title: known ? ww.t('common.statusTitle.' + status) : null },
      known ? ww.t('common.status.' + status) : status);
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
   * shown, a row saying the WHAT could not be loaded. WHAT comes in the user's language.
   */
  function tableLoader(view, path, what, t, render) {
    var loaded = false;
    return function () {
      api('GET', path, null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('common.couldNotLoad', { what: what, message: err.message }));
          if (!loaded) {
            messageRow(t.tbody, t.columns, ww.t('common.notLoaded', { what: what }), 'placeholder-row');
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
   * Lists whose state (search, filters, order, page) rides in the URL after '?', so that
   * a filtered list can be bookmarked and shared. `spec` describes a list:
   *   { base: '#/incidents', filters: { state: ['', 'new', ...], department: 200 },
   *     sorts: ['last_at', 'title'], sort: 'last_at', order: 'desc' }
   * a filter given as a list takes only those values (the first is the default); one given
   * as a number is free text cut at that many characters. `sorts` may be left out.
   */

  /* The list's state from the URL's query, with anything unknown or hostile dropped. */
  function listFromUrl(query, spec) {
    var q = query || {};
    var list = {
      q: str(q.q).substring(0, 200),
      page: /^[1-9][0-9]{0,4}$/.test(str(q.page)) ? parseInt(q.page, 10) : 1
    };
    Object.keys(spec.filters || {}).forEach(function (name) {
      var allowed = spec.filters[name];
      if (isArray(allowed)) {
        list[name] = allowed.indexOf(q[name]) >= 0 ? q[name] : allowed[0];
      } else {
        list[name] = str(q[name]).substring(0, allowed);
      }
    });
    if (spec.sorts) {
      list.sort = spec.sorts.indexOf(q.sort) >= 0 ? q.sort : spec.sort;
      list.order = q.order === 'asc' || q.order === 'desc' ? q.order : spec.order;
    }
    return list;
  }

  /* The URL of the list in `list`'s state; defaults are left out. */
  function listHash(list, spec) {
    var params = { q: list.q };
    Object.keys(spec.filters || {}).forEach(function (name) {
      var allowed = spec.filters[name];
      params[name] = isArray(allowed) && list[name] === allowed[0] ? '' : list[name];
    });
    if (spec.sorts) {
      params.sort = list.sort === spec.sort ? '' : list.sort;
      params.order = list.order === spec.order ? '' : list.order;
    }
    params.page = list.page > 1 ? list.page : '';
    return spec.base + encodeQuery(params);
  }

  /* Puts the list's state in the URL and loads it: in place (no history entry, no new
     view, so typing keeps its focus), or as a new view when `rebuild`. */
  function keepListInUrl(list, spec, rebuild, load) {
    var hash = listHash(list, spec);
    if (rebuild) {
      navigate(hash);
      return;
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, '', hash);
    }
    load();
  }

  /* A search or filter box of a list: what is typed (after a pause) becomes
     `list[field]`, the list goes back to its first page and `go()` runs. */
  function listInput(view, input, list, field, go) {
    onTyping(view, input, 250, function () {
      var value = trim(input.value);
      if (value === list[field]) {
        return;
      }
      list[field] = value;
      list.page = 1;
      go();
    }, false);
  }

  /* After a page of `list` arrived (`shown` rows of `total`): "Showing 51–100 of 230 …"
     in `info` (the words `key.one` and `key.many`), and the pager buttons enabled as far
     as there is a page to go to. */
  function showPage(list, pageSize, shown, total, info, prev, next, key) {
    var first = (list.page - 1) * pageSize;
    setText(info, shown ? ww.t(total === 1 ? key + '.one' : key + '.many',
      { from: formatCount(first + 1), to: formatCount(first + shown), n: formatCount(total) }) : '');
    prev.disabled = list.page <= 1;
    next.disabled = first + shown >= total;
  }

  /* Previous/next buttons that move `list` a page and call `go()`. */
  function pageButtons(list, prev, next, go) {
    prev.addEventListener('click', function () {
      list.page = Math.max(1, list.page - 1);
      go();
    }, false);
    next.addEventListener('click', function () {
      list.page += 1;
      go();
    }, false);
  }

  /*
   * "‹ Previous  Page 2 of 7  Next ›" over a list fetched by offset, pageSize at a time.
   * where() gives the list's current { offset, total } (total null before the first
   * answer); go(offset) loads another page. update(offset, total) after each answer.
   * The buttons get the ids PREFIX-prev and PREFIX-next, the page info PREFIX-page.
   */
  function offsetPager(idPrefix, pageSize, where, go) {
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: idPrefix + '-prev', disabled: true }, ww.t('common.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: idPrefix + '-next', disabled: true }, ww.t('common.next'));
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
        setText(pageInfo, ww.t('common.page', { page: page, pages: pages }));
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
  ww.roleName = roleName;
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
  ww.listFromUrl = listFromUrl;
  ww.keepListInUrl = keepListInUrl;
  ww.pageButtons = pageButtons;
  ww.showPage = showPage;
  ww.listInput = listInput;
  ww.lastPageOffset = lastPageOffset;

  return ww;
}());
