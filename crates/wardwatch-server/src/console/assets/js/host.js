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

  ww.i18n.add({
    en: {
      'host.tab.packages': 'Packages',
      'host.tab.findings': 'Vulnerabilities',
      'host.tab.malware': 'Malware',
      'host.tab.listeners': 'Listening services',
      'host.tab.accounts': 'Accounts',
      'host.tab.history': 'History',
      'host.allHosts': 'All hosts',
      'host.loading': 'Loading host',
      'host.never': 'never',
      'host.fact.label': 'Label',
      'host.fact.department': 'Department',
      'host.fact.os': 'Operating system',
      'host.fact.kernel': 'Kernel',
      'host.fact.arch': 'Architecture',
      'host.fact.machineId': 'Machine ID',
      'host.fact.addresses': 'Addresses',
      'host.fact.bootTime': 'Boot time',
      'host.fact.enrolled': 'Enrolled',
      'host.fact.lastSeen': 'Last seen',
      'host.fact.status': 'Status',
      'host.fact.agentVersion': 'Agent version',
      'host.fact.clock': 'Clock',
      'host.clock.inStep': 'in step with the server',
      'host.clock.behind': '{d} behind the server: the times of its events are off',
      'host.clock.ahead': '{d} ahead of the server: the times of its events are off',
      'host.clock.days': '{n} days',
      'host.clock.hours': '{n} h',
      'host.clock.minutes': '{n} min',
      'host.fact.hostId': 'Host ID',
      'host.revokedSince': ' since {date}',
      'host.notFound': 'Host not found',
      'host.notFoundText': 'No host with the id \u201c{id}\u201d is known to this server. It may have been removed.',
      'host.backToList': 'Back to the host list',
      'host.loadError': 'Could not load the host: {error}',
      'host.loadFailed': 'The host could not be loaded. It is tried again every {n} s.',
      'host.noHost': 'The server sent no host in its answer.'
    },
    zh: {
      'host.tab.packages': '软件包',
      'host.tab.findings': '漏洞',
      'host.tab.malware': '恶意代码',
      'host.tab.listeners': '监听服务',
      'host.tab.accounts': '账号',
      'host.tab.history': '历史',
      'host.allHosts': '全部终端',
      'host.loading': '正在加载终端',
      'host.never': '从未',
      'host.fact.label': '标签',
      'host.fact.department': '科室',
      'host.fact.os': '操作系统',
      'host.fact.kernel': '内核',
      'host.fact.arch': '架构',
      'host.fact.machineId': '机器 ID',
      'host.fact.addresses': '地址',
      'host.fact.bootTime': '启动时间',
      'host.fact.enrolled': '接入时间',
      'host.fact.lastSeen': '最后在线',
      'host.fact.status': '状态',
      'host.fact.agentVersion': '代理程序版本',
      'host.fact.clock': '时钟',
      'host.clock.inStep': '与服务器一致',
      'host.clock.behind': '比服务器慢 {d}：其事件时间不准',
      'host.clock.ahead': '比服务器快 {d}：其事件时间不准',
      'host.clock.days': '{n} 天',
      'host.clock.hours': '{n} 小时',
      'host.clock.minutes': '{n} 分钟',
      'host.fact.hostId': '终端 ID',
      'host.revokedSince': '（自 {date} 起）',
      'host.notFound': '未找到终端',
      'host.notFoundText': '本服务器上没有 ID 为“{id}”的终端，可能已被移除。',
      'host.backToList': '返回终端列表',
      'host.loadError': '无法加载终端：{error}',
      'host.loadFailed': '无法加载终端，每 {n} 秒会自动重试。',
      'host.noHost': '服务器的应答中没有终端信息。'
    }
  });

  /* The host page's tabs, in order; the first is the one #/hosts/ID opens. Each tab's
     title is the word 'host.tab.' + its id. */
  var TABS = [
    { id: 'packages' },
    { id: 'findings' },
    { id: 'malware' },
    { id: 'listeners' },
    { id: 'accounts' },
    { id: 'history' }
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
      backLink('#/hosts', ww.t('host.allHosts')),
      el('div', { className: 'page-head' }, [title, statusHolder]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, ww.t('host.loading') + ELLIPSIS));

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

    // How far the terminal's clock is off the server's: a warning past two minutes
    // (network delay and a heartbeat's own time stay well under that).
    function clockNode(offset) {
      var abs = Math.abs(offset), d;
      if (abs < 2 * 60 * 1000) {
        return el('span', { className: 'muted' }, ww.t('host.clock.inStep'));
      }
      if (abs >= 2 * 86400 * 1000) {
        d = ww.t('host.clock.days', { n: Math.round(abs / 86400000) });
      } else if (abs >= 2 * 3600 * 1000) {
        d = ww.t('host.clock.hours', { n: Math.round(abs / 3600000) });
      } else {
        d = ww.t('host.clock.minutes', { n: Math.round(abs / 60000) });
      }
      return el('span', { className: 'badge badge-revoked', id: 'host-clock-off' },
        ww.t(offset < 0 ? 'host.clock.behind' : 'host.clock.ahead', { d: d }));
    }

    function dateNode(ms) {
      if (ms === null || ms === undefined) {
        return el('span', { className: 'empty' }, ww.t('host.never'));
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
        fact('label', ww.t('host.fact.label'), orDash(host.label)),
        fact('department', ww.t('host.fact.department'), orDash(host.department)),
        fact('os', ww.t('host.fact.os'), os ? el('span', { title: osDetail || null }, os) : orDash(osDetail)),
        fact('kernel', ww.t('host.fact.kernel'), orDash(host.kernel)),
        fact('arch', ww.t('host.fact.arch'), orDash(host.arch)),
        fact('machine-id', ww.t('host.fact.machineId'), host.machine_id ? el('span', { className: 'mono' }, String(host.machine_id)) : orDash(''), true),
        fact('addresses', ww.t('host.fact.addresses'), addressesNode(host.addresses)),
        fact('boot-time', ww.t('host.fact.bootTime'), bootNode(host.boot_time)),
        fact('enrolled', ww.t('host.fact.enrolled'), dateNode(host.enrolled_at)),
        fact('last-seen', ww.t('host.fact.lastSeen'), dateNode(host.last_seen)),
        fact('status', ww.t('host.fact.status'), [statusBadge(status),
          host.revoked && host.revoked_at ? el('span', { className: 'muted', title: fullDate(host.revoked_at) },
            ww.t('host.revokedSince', { date: shortDate(host.revoked_at) })) : null]),
        host.agent_version ? fact('agent-version', ww.t('host.fact.agentVersion'), String(host.agent_version)) : null,
        typeof host.clock_offset_ms === 'number' ? fact('clock', ww.t('host.fact.clock'), clockNode(host.clock_offset_ms)) : null,
        fact('host-id', ww.t('host.fact.hostId'), el('span', { className: 'mono' }, String(host.id)))
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
        }, [ww.t('host.tab.' + def.id), count]);
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
      setText(title, ww.t('host.notFound'));
      setTitle(ww.t('host.notFound'));
      append(body, noticeWithLink('host-not-found', message, '#/hosts', ww.t('host.backToList')));
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
            notFound(ww.t('host.notFoundText', { id: hostId }));
            endView();
            return;
          }
          showError(ww.t('host.loadError', { error: err.message }));
          if (host === null) {
            clear(body);
            append(body, el('p', { className: 'placeholder' }, ww.t('host.loadFailed', { n: REFRESH_MS / 1000 })));
          }
          return;
        }
        if (!data.host) {
          showError(ww.t('host.noHost'));
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
