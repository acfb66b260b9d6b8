/*
 * wardwatch console, backups.js: every terminal's backups (#/backups), by department:
 * the last good backup and its age, snapshots kept, the last run, check and retention,
 * and what is wrong in sentences; the default retention policy. Everything the server
 * sends is shown as text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, clear = ww.clear, isArray = ww.isArray;
  var str = ww.str, plural = ww.plural, formatCount = ww.formatCount, dateCell = ww.dateCell;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  function checkCell(c) {
    if (!c) {
      return el('td', { className: 'muted' }, 'never');
    }
    return el('td', null, [
      el('span', { className: c.ok ? 'badge badge-online' : 'badge badge-revoked' }, c.ok ? 'ok' : 'failed'), ' ',
      dateCell(c.at)
    ]);
  }

  function hostRow(h) {
    var problems = isArray(h.problems) ? h.problems : [];
    var list = el('ul', { className: 'plain' });
    var i;
    for (i = 0; i < problems.length; i++) {
      list.appendChild(el('li', null, String(problems[i])));
    }
    return el('tr', { className: problems.length ? 'backup-row backup-attention' : 'backup-row', 'data-host': str(h.host_id) }, [
      el('td', null, el('a', { className: 'host-link', href: hostHash(h.host_id) }, str(h.hostname || h.host_id))),
      el('td', null, h.last_snapshot_at ? dateCell(h.last_snapshot_at) : el('span', { className: 'muted' }, 'never')),
      el('td', { className: 'num' }, formatCount(h.snapshots)),
      checkCell(h.last_run),
      checkCell(h.last_check),
      checkCell(h.last_drill),
      checkCell(h.last_retention),
      el('td', { className: 'backup-problems' }, problems.length ? list : el('span', { className: 'muted' }, 'all well'))
    ]);
  }

  function showBackups() {
    var view = beginView('backups');
    var body = el('div', { id: 'backups-body' });
    var policy = el('p', { id: 'backups-policy', className: 'muted small' });
    setTitle('Backups');
    append(document.getElementById('app'), [
      el('h1', null, 'Backups'),
      el('p', { className: 'legend' }, 'Each terminal backs up to its own append-only repository on this server; terminals can add backups but never delete or change one. Retention runs here only, by the time each backup arrived.'),
      policy,
      body
    ]);

    function render(data) {
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var byDept = {}, depts = [], i, d, t, rows, bad;
      var p = data.default_policy || {};
      clear(policy);
      append(policy, 'Default retention: last ' + str(p.keep_last) + ', daily ' + str(p.keep_daily) + ', weekly ' + str(p.keep_weekly) +
        ', monthly ' + str(p.keep_monthly) + '; nothing younger than ' + plural(p.min_age_days || 0, 'day', 'days') + ' is removed.');
      for (i = 0; i < hosts.length; i++) {
        d = str(hosts[i].department) || DASH;
        if (!Object.prototype.hasOwnProperty.call(byDept, d)) {
          byDept[d] = [];
          depts.push(d);
        }
        byDept[d].push(hosts[i]);
      }
      clear(body);
      if (!depts.length) {
        append(body, el('div', { className: 'notice', id: 'backups-empty' }, [
          el('p', null, 'No terminal backs up yet.'),
          el('p', null, 'Start agents with --backup-path for the folders to protect (for example /srv/share); the first backup creates the terminal\'s repository.')
        ]));
        return;
      }
      for (i = 0; i < depts.length; i++) {
        t = dataTable('backups-' + i, [
          { label: 'Host' }, { label: 'Last backup' }, { label: 'Snapshots', className: 'num shrink' },
          { label: 'Last run' }, { label: 'Check' }, { label: 'Drill' }, { label: 'Retention' }, { label: 'What is wrong' }
        ]);
        rows = document.createDocumentFragment();
        bad = 0;
        byDept[depts[i]].forEach(function (h) {
          if (isArray(h.problems) && h.problems.length) {
            bad += 1;
          }
          rows.appendChild(hostRow(h));
        });
        fillTable(t, rows, byDept[depts[i]].length, '');
        append(body, el('section', { className: 'backup-dept' }, [
          el('h2', null, depts[i] + ' ' + DASH + ' ' + plural(byDept[depts[i]].length, 'terminal', 'terminals') +
            (bad ? ', ' + bad + ' need attention' : ', all well')),
          el('div', { className: 'table-wrap' }, t.table)
        ]));
      }
    }

    function load() {
      api('GET', '/api/backups', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the backups: ' + err.message);
          return;
        }
        clearError();
        render(data || {});
      });
    }
    var placeholder = dataTable('backups-loading', [{ label: 'Host' }]);
    loadingRow(placeholder, 'Loading backups');
    append(body, placeholder.table);
    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.backups = showBackups;
}(wardwatch));
