/*
 * wardwatch console, hosts.js: the host list (#/hosts) with its summary cards (hosts by
 * status, alerts of the last 24 hours), a filter box and a table refreshed every 10 s.
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
  var openRowOnClick = ww.openRowOnClick, onTyping = ww.onTyping;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  function showHosts() {
    var view = beginView('hosts');
    var hosts = null;
    var loading = false;
    var lastLoaded = null;
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

    onTyping(view, filter, 120, function () {
      state.hostFilter = filter.value;
      render();
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
