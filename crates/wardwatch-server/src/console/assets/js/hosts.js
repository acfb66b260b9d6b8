/*
 * wardwatch console, hosts.js: the host list (#/hosts) with its summary cards (hosts by
 * status, alerts of the last 24 hours), a search, status and department filters, sortable
 * columns and pages of 100, all done by the server and kept in the URL, refreshed every
 * 10 s.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var setClass = ww.setClass, isArray = ww.isArray, orDash = ww.orDash, str = ww.str, trim = ww.trim;
  var formatCount = ww.formatCount, shortDate = ww.shortDate, timeNode = ww.timeNode;
  var api = ww.api, encodeQuery = ww.encodeQuery, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash, state = ww.state;
  var hostStatus = ww.hostStatus, statusBadge = ww.statusBadge, summaryCard = ww.summaryCard;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var openRowOnClick = ww.openRowOnClick;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  ww.i18n.add({
    en: {
      'hosts.title': 'Hosts',
      'hosts.loading': 'Loading hosts',
      'hosts.alerts24h': 'Alerts, last 24 h',
      'hosts.alertsCardTitle': 'Alerts received in the last 24 hours; open the alert list',
      'hosts.alertCountError': 'The alert count could not be loaded: {error}',
      'hosts.alertsNone': 'No alerts in the last 24 hours; open the alert list',
      'hosts.alerts.one': '{n} alert in the last 24 hours; open the alert list',
      'hosts.alerts.many': '{n} alerts in the last 24 hours; open the alert list',
      'hosts.alertsUrgent.one': '{n} alert in the last 24 hours, {urgent} where a process was suspended or killed; open the alert list',
      'hosts.alertsUrgent.many': '{n} alerts in the last 24 hours, {urgent} where a process was suspended or killed; open the alert list',
      'hosts.searchPlaceholder': 'Search name, label, department, OS or id',
      'hosts.searchLabel': 'Search hosts',
      'hosts.status.any': 'Any status',
      'hosts.status.online': 'Online',
      'hosts.status.offline': 'Offline',
      'hosts.status.revoked': 'Revoked',
      'hosts.prev': '\u2039 Previous',
      'hosts.next': 'Next \u203a',
      'hosts.col.name': 'Name',
      'hosts.col.label': 'Label',
      'hosts.col.department': 'Department',
      'hosts.col.os': 'OS',
      'hosts.col.lastSeen': 'Last seen',
      'hosts.col.status': 'Status',
      'hosts.col.packages': 'Packages',
      'hosts.sortBy': 'Sort by {column}',
      'hosts.card.total': 'Hosts',
      'hosts.emptyFleet': 'No hosts have enrolled yet. Hosts appear here once their agent has enrolled.',
      'hosts.emptyPage': 'No hosts on this page.',
      'hosts.noMatch': 'No host matches the filter.',
      'hosts.showing.one': 'Showing {from}\u2013{to} of {n} host',
      'hosts.showing.many': 'Showing {from}\u2013{to} of {n} hosts',
      'hosts.refreshEvery': 'Refreshed every {n} s',
      'hosts.updated': 'Updated {time}',
      'hosts.loadError': 'Could not load the host list: {error}',
      'hosts.loadFailed': 'The host list could not be loaded. It is tried again every {n} s.'
    },
    zh: {
      'hosts.title': '终端',
      'hosts.loading': '正在加载终端',
      'hosts.alerts24h': '近 24 小时告警',
      'hosts.alertsCardTitle': '近 24 小时收到的告警；点击打开告警列表',
      'hosts.alertCountError': '无法加载告警数量：{error}',
      'hosts.alertsNone': '近 24 小时没有告警；点击打开告警列表',
      'hosts.alerts.one': '近 24 小时 {n} 条告警；点击打开告警列表',
      'hosts.alerts.many': '近 24 小时 {n} 条告警；点击打开告警列表',
      'hosts.alertsUrgent.one': '近 24 小时 {n} 条告警，其中 {urgent} 条的进程已被挂起或终止；点击打开告警列表',
      'hosts.alertsUrgent.many': '近 24 小时 {n} 条告警，其中 {urgent} 条的进程已被挂起或终止；点击打开告警列表',
      'hosts.searchPlaceholder': '搜索名称、标签、科室、操作系统或 ID',
      'hosts.searchLabel': '搜索终端',
      'hosts.status.any': '全部状态',
      'hosts.status.online': '在线',
      'hosts.status.offline': '离线',
      'hosts.status.revoked': '已吊销',
      'hosts.prev': '‹ 上一页',
      'hosts.next': '下一页 ›',
      'hosts.col.name': '名称',
      'hosts.col.label': '标签',
      'hosts.col.department': '科室',
      'hosts.col.os': '操作系统',
      'hosts.col.lastSeen': '最后在线',
      'hosts.col.status': '状态',
      'hosts.col.packages': '软件包',
      'hosts.sortBy': '按{column}排序',
      'hosts.card.total': '终端',
      'hosts.emptyFleet': '尚未接入终端。终端的代理程序接入后会显示在这里。',
      'hosts.emptyPage': '本页没有终端。',
      'hosts.noMatch': '没有符合筛选条件的终端。',
      'hosts.showing.one': '第 {from}–{to} 台，共 {n} 台终端',
      'hosts.showing.many': '第 {from}–{to} 台，共 {n} 台终端',
      'hosts.refreshEvery': '每 {n} 秒刷新一次',
      'hosts.updated': '更新于 {time}',
      'hosts.loadError': '无法加载终端列表：{error}',
      'hosts.loadFailed': '无法加载终端列表，每 {n} 秒会自动重试。'
    }
  });

  var PAGE_SIZE = 100;
  /* The list's state in the URL (lib.js listFromUrl). */
  var LIST = {
    base: '#/hosts',
    filters: { status: ['', 'online', 'offline', 'revoked'], department: 64 },
    sorts: ['department', 'name', 'os', 'last_seen', 'packages'], sort: 'department', order: 'asc'
  };

  function showHosts(query) {
    var view = beginView('hosts');
    var list = ww.listFromUrl(query, LIST);
    var loading = false;
    var lastLoaded = null;
    var loadedOnce = false;
    setTitle(ww.t('hosts.title'));

    /* Alerts of the last 24 hours, across all hosts: the first thing to look at. */
    var alertsCard = el('a', { className: 'summary-card alerts', id: 'summary-alerts-card', href: '#/alerts',
      title: ww.t('hosts.alertsCardTitle') }, [
      el('span', { className: 'value', id: 'summary-alerts' }, DASH),
      el('span', { className: 'name' }, ww.t('hosts.alerts24h'))
    ]);

    function loadAlertCount() {
      api('GET', '/api/alerts' + encodeQuery({ limit: 1 }), null, function (err, data) {
        var recent, urgent;
        if (!view.alive()) {
          return;
        }
        if (err) {
          setText(byId('summary-alerts'), DASH);
          alertsCard.setAttribute('title', ww.t('hosts.alertCountError', { error: err.message }));
          return;
        }
        recent = typeof data.last_24h === 'number' ? data.last_24h : 0;
        urgent = typeof data.last_24h_urgent === 'number' ? data.last_24h_urgent : 0;
        setText(byId('summary-alerts'), formatCount(recent));
        setClass(alertsCard, 'has-alerts', recent > 0);
        setClass(alertsCard, 'urgent', urgent > 0);
        alertsCard.setAttribute('data-urgent', String(urgent));
        alertsCard.setAttribute('title', recent ?
          ww.t((urgent ? 'hosts.alertsUrgent.' : 'hosts.alerts.') + (recent === 1 ? 'one' : 'many'),
            { n: formatCount(recent), urgent: formatCount(urgent) }) :
          ww.t('hosts.alertsNone'));
      });
    }

    var filter = el('input', {
      id: 'host-filter', type: 'search', placeholder: ww.t('hosts.searchPlaceholder'),
      'aria-label': ww.t('hosts.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var statusSelect = el('select', { id: 'host-status', 'aria-label': ww.t('hosts.col.status') });
    ['', 'online', 'offline', 'revoked'].forEach(function (code) {
      var option = el('option', { value: code }, ww.t('hosts.status.' + (code || 'any')));
      option.selected = list.status === code;
      statusSelect.appendChild(option);
    });
    var departmentInput = el('input', { id: 'host-department', type: 'search', placeholder: ww.t('hosts.col.department'),
      'aria-label': ww.t('hosts.col.department'), maxlength: 64, value: list.department });
    var shownInfo = el('span', { className: 'info', id: 'hosts-shown' });
    var updated = el('span', { className: 'info', id: 'hosts-updated' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'hosts-prev' }, ww.t('hosts.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'hosts-next' }, ww.t('hosts.next'));
    var columns = [
      { label: ww.t('hosts.col.name'), sort: 'name' },
      { label: ww.t('hosts.col.label') },
      { label: ww.t('hosts.col.department'), sort: 'department' },
      { label: ww.t('hosts.col.os'), sort: 'os' },
      { label: ww.t('hosts.col.lastSeen'), className: 'shrink', sort: 'last_seen' },
      { label: ww.t('hosts.col.status'), className: 'shrink' },
      { label: ww.t('hosts.col.packages'), className: 'num shrink', sort: 'packages' }
    ];
    var t = dataTable('hosts-table', columns.map(function (c) {
      var arrow = list.sort === c.sort ? (list.order === 'desc' ? ' \u25be' : ' \u25b4') : '';
      return { label: c.label + arrow, className: c.className, title: c.sort ? ww.t('hosts.sortBy', { column: c.label.toLowerCase() }) : null };
    }));
    /* A sortable column's header sorts by it; a second click turns the order round. */
    Array.prototype.forEach.call(t.table.querySelectorAll('thead th'), function (th, i) {
      var key = columns[i].sort;
      if (!key) {
        return;
      }
      th.className = (th.className ? th.className + ' ' : '') + 'sortable';
      th.setAttribute('data-sort', key);
      th.addEventListener('click', function () {
        list.order = list.sort === key && list.order === 'asc' ? 'desc' : 'asc';
        list.sort = key;
        list.page = 1;
        rememberAndReload(true);
      }, false);
    });
    loadingRow(t, ww.t('hosts.loading'));

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('hosts.title'))]),
      el('div', { className: 'summary', id: 'hosts-summary' }, [
        summaryCard('summary-hosts', ww.t('hosts.card.total'), 'total'),
        summaryCard('summary-online', ww.t('hosts.status.online'), 'online'),
        summaryCard('summary-offline', ww.t('hosts.status.offline'), 'offline'),
        summaryCard('summary-revoked', ww.t('hosts.status.revoked'), 'revoked'),
        alertsCard
      ]),
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, filter),
        statusSelect,
        departmentInput,
        shownInfo,
        el('span', { className: 'spacer' }),
        prev, next,
        updated
      ]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    /* The URL holds the list's state, so a filtered list can be bookmarked and shared;
       replaced in place, so that typing does not fill the history or reload the view. */
    function rememberAndReload(rebuild) {
      ww.keepListInUrl(list, LIST, rebuild, load);
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

    function render(data) {
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var total = Number(data.total) || 0;
      var all = (Number(data.online) || 0) + (Number(data.offline) || 0) + (Number(data.revoked) || 0);
      var filtered = list.q || list.status || list.department;
      setText(byId('summary-hosts'), formatCount(all));
      setText(byId('summary-online'), formatCount(Number(data.online) || 0));
      setText(byId('summary-offline'), formatCount(Number(data.offline) || 0));
      setText(byId('summary-revoked'), formatCount(Number(data.revoked) || 0));
      var rows = document.createDocumentFragment();
      hosts.forEach(function (host) { rows.appendChild(hostRow(host)); });
      clear(t.tbody);
      if (all === 0 && !filtered) {
        messageRow(t.tbody, t.columns, ww.t('hosts.emptyFleet'));
      } else if (hosts.length === 0) {
        messageRow(t.tbody, t.columns, total ? ww.t('hosts.emptyPage') : ww.t('hosts.noMatch'));
      } else {
        t.tbody.appendChild(rows);
      }
      ww.showPage(list, PAGE_SIZE, hosts.length, total, shownInfo, prev, next, 'hosts.showing');
      if (lastLoaded !== null) {
        updated.setAttribute('title', ww.t('hosts.refreshEvery', { n: REFRESH_MS / 1000 }));
        setText(updated, ww.t('hosts.updated', { time: shortDate(lastLoaded).substring(11) }));
      }
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      api('GET', '/api/hosts' + encodeQuery({
        q: list.q, status: list.status, department: list.department, sort: list.sort, order: list.order,
        limit: PAGE_SIZE, offset: (list.page - 1) * PAGE_SIZE
      }), null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('hosts.loadError', { error: err.message }));
          if (!loadedOnce) {
            messageRow(t.tbody, t.columns, ww.t('hosts.loadFailed', { n: REFRESH_MS / 1000 }), 'placeholder-row');
          }
          return;
        }
        loadedOnce = true;
        lastLoaded = new Date().getTime();
        clearError();
        render(data);
      });
    }

    ww.listInput(view, filter, list, 'q', function () { rememberAndReload(false); });
    ww.listInput(view, departmentInput, list, 'department', function () { rememberAndReload(false); });
    statusSelect.addEventListener('change', function () {
      list.status = statusSelect.value;
      list.page = 1;
      rememberAndReload(false);
    }, false);
    ww.pageButtons(list, prev, next, function () { rememberAndReload(false); });

    /* A click anywhere on a row opens the host (unless the user is selecting text). */
    openRowOnClick(t.tbody, 'host-row', 'data-host-id', hostHash);

    load();
    loadAlertCount();
    view.every(REFRESH_MS, load);
    view.every(REFRESH_MS, loadAlertCount);
  }

  ww.views.hosts = showHosts;
}(wardwatch));
