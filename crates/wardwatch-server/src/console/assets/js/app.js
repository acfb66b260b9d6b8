/*
 * wardwatch console, app.js: the router and the start. Loaded last: it reads the
 * location's hash, shows the view the other files registered in wardwatch.views, and
 * boots the console (who is signed in, header buttons, hash changes, unexpected errors).
 *
 * Routes (location.hash):
 *   #/login              sign in
 *   #/hosts?q=&status=&department=&sort=&order=&page=   host list, searched, filtered,
 *                        sorted and paged by the server (the URL can be bookmarked)
 *   #/hosts/ID           host page, packages tab
 *   #/hosts/ID/TAB       host page, TAB = packages | findings | malware | listeners | accounts | history
 *   #/alerts             alerts of every host, newest first
 *   #/alerts/ID          one alert: process, parent chain, every file
 *   #/incidents?state=&q=&sort=&order=&page=   incidents, searched, filtered, sorted
 *                        and paged by the server
 *   #/incidents/ID       one incident: timeline, processes, files, notes
 *   #/backups?q=&department=&sort=&order=&page=   every terminal's backups by
 *                        department, and what is wrong; searched, filtered, sorted and
 *                        paged by the server
 *   #/bundles?q=&department=&behind=&page=   offline bundles: installed per kind,
 *                        upload, hosts' versions; the hosts searched, filtered and paged
 *   #/patches?q=&department=&page=   upgrades per terminal and department: planned,
 *                        available, installed; the terminals searched, filtered and paged
 *   #/vulns              vulnerabilities of the fleet: feed, priorities, upgrades, findings
 *   #/vulns/advisory/ID  one CVE or advisory: evidence, hosts, accepted risks
 *   #/overview           the first page: the fleet at a glance, first steps
 *   #/users              console accounts (admins)
 *   #/account            the signed-in user's own account: password change
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, trim = ww.trim;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError, state = ww.state;
  var beginView = ww.beginView, setTitle = ww.setTitle, navigate = ww.navigate;
  var updateHeader = ww.updateHeader, views = ww.views, ELLIPSIS = ww.ELLIPSIS;
  var TABS = ww.HOST_TABS;

  /* "a=1&b=x%20y" as { a: '1', b: 'x y' }; what does not decode is left out. */
  function parseQuery(text) {
    var out = {};
    (text || '').split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      if (at <= 0) {
        return;
      }
      try {
        out[decodeURIComponent(pair.substring(0, at))] = decodeURIComponent(pair.substring(at + 1).replace(/\+/g, ' '));
      } catch (e) { /* a malformed pair is ignored */ }
    });
    return out;
  }

  function parseRoute() {
    var hash = location.hash || '';
    var parts, id, tab, i, query = '', at;
    if (hash.charAt(0) === '#') {
      hash = hash.substring(1);
    }
    /* A list's state (search, filters, order, page) rides after '?'. */
    at = hash.indexOf('?');
    if (at >= 0) {
      query = hash.substring(at + 1);
      hash = hash.substring(0, at);
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
    if (parts[1] === 'backups' && (parts.length === 2 || (parts.length === 3 && parts[2] === ''))) {
      return { name: 'backups', query: parseQuery(query) };
    }
    if (parts[1] === 'bundles' && (parts.length === 2 || (parts.length === 3 && parts[2] === ''))) {
      return { name: 'bundles', query: parseQuery(query) };
    }
    if (parts[1] === 'patches' && (parts.length === 2 || (parts.length === 3 && parts[2] === ''))) {
      return { name: 'patches', query: parseQuery(query) };
    }
    if (parts[1] === 'audit' && (parts.length === 2 || (parts.length === 3 && parts[2] === ''))) {
      return { name: 'audit' };
    }
    if ((parts[1] === 'users' || parts[1] === 'account' || parts[1] === 'overview') && parts.length === 2) {
      return { name: parts[1] };
    }
    if (parts[1] === 'incidents') {
      if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) {
        return { name: 'incidents', query: parseQuery(query) };
      }
      if (parts.length === 3 && /^[0-9]{1,18}$/.test(parts[2])) {
        return { name: 'incident', id: parts[2] };
      }
      return { name: 'notfound' };
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
        return { name: 'hosts', query: parseQuery(query) };
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

  function showNotFound() {
    beginView('notfound');
    setTitle(ww.t('app.notFound.title'));
    append(byId('app'), el('div', { className: 'notice' }, [
      el('h1', null, ww.t('app.notFound.heading')),
      el('p', null, ww.t('app.notFound.text')),
      el('p', null, el('a', { href: '#/hosts' }, ww.t('app.notFound.link')))
    ]));
  }

  function route() {
    var r = parseRoute();
    if (!state.booted) {
      return;
    }
    if (r.name === 'login') {
      if (state.user) {
        navigate('#/overview');
        return;
      }
      clearError();
      views.login();
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
      navigate('#/overview');
      return;
    }
    if (r.name === 'host' && state.view && state.view.name === 'host' && state.view.hostId === r.id) {
      state.view.selectTab(r.tab);
      return;
    }
    clearError();
    if (r.name === 'hosts') {
      views.hosts(r.query || {});
    } else if (r.name === 'host') {
      views.host(r.id, r.tab);
    } else if (r.name === 'alerts') {
      views.alerts();
    } else if (r.name === 'alert') {
      views.alert(r.id);
    } else if (r.name === 'backups') {
      views.backups(r.query || {});
    } else if (r.name === 'bundles') {
      views.bundles(r.query || {});
    } else if (r.name === 'patches') {
      views.patches(r.query || {});
    } else if (r.name === 'audit') {
      views.audit();
    } else if (r.name === 'overview') {
      views.overview();
    } else if (r.name === 'users') {
      views.users();
    } else if (r.name === 'account') {
      views.account();
    } else if (r.name === 'incidents') {
      views.incidents(r.query || {});
    } else if (r.name === 'incident') {
      views.incident(r.id);
    } else if (r.name === 'vulns') {
      views.vulns();
    } else if (r.name === 'advisory') {
      views.advisory(r.id);
    } else {
      showNotFound();
    }
  }

  function bootFailed(message) {
    var app = byId('app');
    clear(app);
    showError(message);
    append(app, el('div', { className: 'notice', id: 'boot-error' }, [
      el('h1', null, ww.t('app.bootFailed.heading')),
      el('p', null, ww.t('app.bootFailed.text')),
      el('p', null, el('button', {
        type: 'button', className: 'btn btn-primary', id: 'retry-button',
        onclick: function () { boot(); }
      }, ww.t('app.retry')))
    ]));
  }

  function boot() {
    var app = byId('app');
    clear(app);
    append(app, el('p', { className: 'placeholder', id: 'boot-message' }, ww.t('app.booting') + ELLIPSIS));
    api('GET', '/api/me', null, function (err, data) {
      if (err && err.status !== 401) {
        bootFailed(ww.t('app.bootFailed', { message: err.message }));
        return;
      }
      clearError();
      ww.setAccount(err ? null : data);
      state.booted = true;
      updateHeader();
      route();
    }, { allow401: true });
  }

  function start() {
    byId('error-dismiss').addEventListener('click', clearError, false);
    byId('logout-button').addEventListener('click', ww.logout, false);
    window.addEventListener('hashchange', route, false);
    boot();
  }

  ww.route = route;

  /* An unexpected script error must not leave a blank page without a word (in English
     when the words themselves did not load). */
  window.onerror = function (message) {
    try {
      showError(ww.t ? ww.t('app.unexpected', { message: message }) :
        'The console hit an unexpected problem (' + message + '). Reload the page to continue.');
    } catch (e) { /* nothing more to do */ }
    return false;
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, false);
  } else {
    start();
  }
}(wardwatch));
