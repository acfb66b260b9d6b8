/*
 * wardwatch console, host.js: the page of one host (#/hosts/ID and #/hosts/ID/TAB): its
 * facts and the tab bar. Each tab's content is built by the function registered in
 * wardwatch.hostTabs under the tab's id (host-inventory.js, host-findings.js,
 * host-malware.js), the first time the tab is opened.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var show = ww.show, setClass = ww.setClass, isArray = ww.isArray, orDash = ww.orDash;
  var formatCount = ww.formatCount, fullDate = ww.fullDate, shortDate = ww.shortDate;
  var dateAndAgoNodes = ww.dateAndAgoNodes, api = ww.api, hostPath = ww.hostPath;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var endView = ww.endView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var hostStatus = ww.hostStatus, statusBadge = ww.statusBadge, backLink = ww.backLink;
  var noticeWithLink = ww.noticeWithLink, ELLIPSIS = ww.ELLIPSIS, REFRESH_MS = ww.REFRESH_MS;

  /* The host page's tabs, in order; the first is the one #/hosts/ID opens. */
  var TABS = [
    { id: 'packages', title: 'Packages' },
    { id: 'findings', title: 'Vulnerabilities' },
    { id: 'malware', title: 'Malware' },
    { id: 'listeners', title: 'Listening services' },
    { id: 'accounts', title: 'Accounts' },
    { id: 'history', title: 'History' }
  ];

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
      backLink('#/hosts', 'All hosts'),
      el('div', { className: 'page-head' }, [title, statusHolder]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, 'Loading host' + ELLIPSIS));

    function fact(key, label, value, wide) {
      return ww.fact({ id: 'fact-' + key }, label, value, wide);
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
      return dateAndAgoNodes(seconds * 1000);
    }

    function dateNode(ms) {
      if (ms === null || ms === undefined) {
        return el('span', { className: 'empty' }, 'never');
      }
      return dateAndAgoNodes(ms);
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
        tabState[tab] = ww.hostTabs[tab](view, hostId, panels[tab], tabs[tab]);
      }
      tabState[tab].activate();
    };

    function notFound(message) {
      clear(body);
      setText(title, 'Host not found');
      setTitle('Host not found');
      append(body, noticeWithLink('host-not-found', message, '#/hosts', 'Back to the host list'));
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

  ww.HOST_TABS = TABS;
  ww.views.host = showHost;
}(wardwatch));
