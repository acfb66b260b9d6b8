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
  var plural = ww.plural, formatCount = ww.formatCount, shortDate = ww.shortDate, timeNode = ww.timeNode;
  var api = ww.api, encodeQuery = ww.encodeQuery, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash, state = ww.state;
  var hostStatus = ww.hostStatus, statusBadge = ww.statusBadge, summaryCard = ww.summaryCard;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var openRowOnClick = ww.openRowOnClick, onTyping = ww.onTyping, navigate = ww.navigate;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  var PAGE_SIZE = 100;
  var SORTS = ['department', 'name', 'os', 'last_seen', 'packages'];
  var STATUSES = ['', 'online', 'offline', 'revoked'];

  /* The list's state from the URL, with anything unknown dropped. */
  function listState(query) {
    var page = parseInt(query.page, 10);
    return {
      q: str(query.q).substring(0, 200),
      status: STATUSES.indexOf(query.status) > 0 ? query.status : '',
      department: str(query.department).substring(0, 64),
      sort: SORTS.indexOf(query.sort) >= 0 ? query.sort : 'department',
      order: query.order === 'desc' ? 'desc' : 'asc',
      page: page > 0 && page < 100000 ? page : 1
    };
  }

  function showHosts(query) {
    var view = beginView('hosts');
    var list = listState(query || {});
    var loading = false;
    var lastLoaded = null;
    var loadedOnce = false;
    setTitle('Hosts');

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
      id: 'host-filter', type: 'search', placeholder: 'Search name, label, department, OS or id',
      'aria-label': 'Search hosts', autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var statusSelect = el('select', { id: 'host-status', 'aria-label': 'Status' });
    [['', 'Any status'], ['online', 'Online'], ['offline', 'Offline'], ['revoked', 'Revoked']].forEach(function (o) {
      var option = el('option', { value: o[0] }, o[1]);
      option.selected = list.status === o[0];
      statusSelect.appendChild(option);
    });
    var departmentInput = el('input', { id: 'host-department', type: 'search', placeholder: 'Department',
      'aria-label': 'Department', maxlength: 64, value: list.department });
    var shownInfo = el('span', { className: 'info', id: 'hosts-shown' });
    var updated = el('span', { className: 'info', id: 'hosts-updated' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'hosts-prev' }, '\u2039 Previous');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'hosts-next' }, 'Next \u203a');
    var columns = [
      { label: 'Name', sort: 'name' },
      { label: 'Label' },
      { label: 'Department', sort: 'department' },
      { label: 'OS', sort: 'os' },
      { label: 'Last seen', className: 'shrink', sort: 'last_seen' },
      { label: 'Status', className: 'shrink' },
      { label: 'Packages', className: 'num shrink', sort: 'packages' }
    ];
    var t = dataTable('hosts-table', columns.map(function (c) {
      var arrow = list.sort === c.sort ? (list.order === 'desc' ? ' \u25be' : ' \u25b4') : '';
      return { label: c.label + arrow, className: c.className, title: c.sort ? 'Sort by ' + c.label.toLowerCase() : null };
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
    loadingRow(t, 'Loading hosts');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Hosts')]),
      el('div', { className: 'summary', id: 'hosts-summary' }, [
        summaryCard('summary-hosts', 'Hosts', 'total'),
        summaryCard('summary-online', 'Online', 'online'),
        summaryCard('summary-offline', 'Offline', 'offline'),
        summaryCard('summary-revoked', 'Revoked', 'revoked'),
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
      var hash = '#/hosts' + encodeQuery({
        q: list.q, status: list.status, department: list.department,
        sort: list.sort === 'department' ? '' : list.sort,
        order: list.order === 'asc' ? '' : list.order,
        page: list.page > 1 ? list.page : ''
      });
      if (rebuild) {
        navigate(hash);
        return;
      }
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', hash);
      }
      load();
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
      var first = (list.page - 1) * PAGE_SIZE;
      setText(byId('summary-hosts'), formatCount(all));
      setText(byId('summary-online'), formatCount(Number(data.online) || 0));
      setText(byId('summary-offline'), formatCount(Number(data.offline) || 0));
      setText(byId('summary-revoked'), formatCount(Number(data.revoked) || 0));
      var rows = document.createDocumentFragment();
      hosts.forEach(function (host) { rows.appendChild(hostRow(host)); });
      clear(t.tbody);
      if (all === 0 && !filtered) {
        messageRow(t.tbody, t.columns, 'No hosts have enrolled yet. Hosts appear here once their agent has enrolled.');
      } else if (hosts.length === 0) {
        messageRow(t.tbody, t.columns, total ? 'No hosts on this page.' : 'No host matches the filter.');
      } else {
        t.tbody.appendChild(rows);
      }
      setText(shownInfo, hosts.length ? 'Showing ' + formatCount(first + 1) + '\u2013' + formatCount(first + hosts.length) +
        ' of ' + plural(total, 'host', 'hosts') : '');
      prev.disabled = list.page <= 1;
      next.disabled = first + hosts.length >= total;
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
      api('GET', '/api/hosts' + encodeQuery({
        q: list.q, status: list.status, department: list.department, sort: list.sort, order: list.order,
        limit: PAGE_SIZE, offset: (list.page - 1) * PAGE_SIZE
      }), null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the host list: ' + err.message);
          if (!loadedOnce) {
            messageRow(t.tbody, t.columns, 'The host list could not be loaded. It is tried again every ' +
              (REFRESH_MS / 1000) + ' s.', 'placeholder-row');
          }
          return;
        }
        loadedOnce = true;
        lastLoaded = new Date().getTime();
        clearError();
        render(data);
      });
    }

    onTyping(view, filter, 250, function () {
      list.q = trim(filter.value);
      list.page = 1;
      rememberAndReload(false);
    }, false);
    onTyping(view, departmentInput, 250, function () {
      list.department = trim(departmentInput.value);
      list.page = 1;
      rememberAndReload(false);
    }, false);
    statusSelect.addEventListener('change', function () {
      list.status = statusSelect.value;
      list.page = 1;
      rememberAndReload(false);
    }, false);
    prev.addEventListener('click', function () {
      list.page = Math.max(1, list.page - 1);
      rememberAndReload(false);
    }, false);
    next.addEventListener('click', function () {
      list.page += 1;
      rememberAndReload(false);
    }, false);

    /* A click anywhere on a row opens the host (unless the user is selecting text). */
    openRowOnClick(t.tbody, 'host-row', 'data-host-id', hostHash);

    load();
    loadAlertCount();
    view.every(REFRESH_MS, load);
    view.every(REFRESH_MS, loadAlertCount);
  }

  ww.views.hosts = showHosts;
}(wardwatch));
