/*
 * wardwatch console, backups.js: every terminal's backups (#/backups), by department:
 * the last good backup and its age, snapshots kept, the last run, check and retention,
 * and what is wrong in sentences; the default retention policy. For admins, a per-host
 * "Restore…" form: a snapshot (newest first), paths inside it, in place or into a folder
 * on the terminal; the queued command's state and result follow below the form.
 * Everything the server sends is shown as text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, clear = ww.clear, isArray = ww.isArray;
  var str = ww.str, plural = ww.plural, formatCount = ww.formatCount, dateCell = ww.dateCell;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;
  var hostPath = ww.hostPath, state = ww.state, showMessage = ww.showMessage;

  var RESTORE_POLL_MS = 3000; // the queued restore's state, until it is done

  function checkCell(c) {
    if (!c) {
      return el('td', { className: 'muted' }, 'never');
    }
    return el('td', null, [
      el('span', { className: c.ok ? 'badge badge-online' : 'badge badge-revoked' }, c.ok ? 'ok' : 'failed'), ' ',
      dateCell(c.at)
    ]);
  }

  function restoreOutcome(c) {
    var r = c.result, lines = [], failures, i;
    if (typeof r === 'string') {
      return [r];
    }
    r = r || {};
    lines.push('Snapshot ' + str(r.snapshot).substring(0, 12) + ': ' + plural(r.restored || 0, 'file', 'files') +
      ' restored, ' + (r.unchanged || 0) + ' unchanged, ' + (r.failed || 0) + ' failed' +
      (r.skipped ? ', ' + r.skipped + ' links or special files skipped' : '') + (r.stopped ? ' (stopped early)' : '') + '.');
    failures = isArray(r.failures) ? r.failures : [];
    for (i = 0; i < failures.length; i++) {
      lines.push(str(failures[i].path) + ': ' + str(failures[i].note));
    }
    return lines;
  }

  /* The restore form for one host, in `panel`; `view` ends its polling. */
  function restoreForm(view, panel, h) {
    var snapshot = el('select', { id: 'restore-snapshot' }, el('option', { value: '' }, 'Loading snapshots' + ww.ELLIPSIS));
    var paths = el('textarea', { id: 'restore-paths', rows: 4, cols: 60, placeholder: '/srv/share/records' });
    var inPlace = el('input', { type: 'radio', name: 'restore-where', id: 'restore-in-place', value: 'in-place', checked: true });
    var intoFolder = el('input', { type: 'radio', name: 'restore-where', id: 'restore-into-folder', value: 'folder' });
    var target = el('input', { type: 'text', id: 'restore-target', size: 50, placeholder: '/var/tmp/restored' });
    var review = el('button', { type: 'button', className: 'btn btn-primary', id: 'restore-review' }, 'Restore' + ww.ELLIPSIS);
    var go = el('button', { type: 'button', className: 'btn btn-primary', id: 'restore-go', hidden: true }, 'Confirm restore');
    var cancel = el('button', { type: 'button', className: 'btn', id: 'restore-cancel' }, 'Close');
    var summary = el('p', { id: 'restore-summary', hidden: true });
    var status = el('div', { id: 'restore-status', className: 'form-note', role: 'status', hidden: true });
    var result = el('ul', { id: 'restore-result', className: 'plain' });
    var polling = null;
    view.cleanups.push(function () {
      if (polling) {
        window.clearInterval(polling);
      }
    });
    clear(panel);
    panel.hidden = false;
    append(panel, [
      el('h2', null, 'Restore on ' + str(h.hostname || h.host_id)),
      el('p', { className: 'muted small' }, 'The terminal puts the files back the next time its agent asks the server (about every 10 s). ' +
        'A current file that differs is kept beside it as NAME.wardwatch-damaged-TIME; one that already matches is left alone.'),
      el('p', null, [el('label', { 'for': 'restore-snapshot' }, 'Snapshot '), snapshot]),
      el('p', null, [el('label', { 'for': 'restore-paths' }, 'Paths inside the snapshot, one per line (none: everything)'), el('br'), paths]),
      el('p', null, [inPlace, el('label', { 'for': 'restore-in-place' }, ' in place'), ' ',
        intoFolder, el('label', { 'for': 'restore-into-folder' }, ' into a folder on the terminal: '), target]),
      summary,
      el('p', null, [review, ' ', go, ' ', cancel]),
      status,
      result
    ]);

    api('GET', hostPath(h.host_id, '/backup/snapshots'), null, function (err, data) {
      var list, i, s;
      if (!view.alive()) {
        return;
      }
      clear(snapshot);
      if (err) {
        showError('Could not load the snapshots: ' + err.message);
        return;
      }
      list = isArray(data && data.snapshots) ? data.snapshots : [];
      for (i = 0; i < list.length; i++) {
        s = list[i];
        snapshot.appendChild(el('option', { value: str(s.snapshot_id) },
          str(s.snapshot_id).substring(0, 12) + ' ' + DASH + ' received ' + new Date(s.received_at).toLocaleString() + (i === 0 ? ' (newest)' : '')));
      }
      if (!list.length) {
        snapshot.appendChild(el('option', { value: '' }, 'no snapshot kept'));
      }
    });

    function request() {
      var lines = paths.value.split('\n'), wanted = [], i, t;
      for (i = 0; i < lines.length; i++) {
        t = lines[i].replace(/^\s+|\s+$/g, '');
        if (t) {
          wanted.push(t);
        }
      }
      return {
        snapshot: snapshot.value || null,
        paths: wanted,
        target: intoFolder.checked ? target.value.replace(/^\s+|\s+$/g, '') : null
      };
    }

    function follow(id) {
      api('GET', hostPath(h.host_id, '/commands'), null, function (err, data) {
        var list, i, c, lines;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showMessage(status, 'Could not follow the restore: ' + err.message);
          return;
        }
        list = isArray(data && data.commands) ? data.commands : [];
        for (i = 0; i < list.length; i++) {
          if (list[i].id === id) {
            c = list[i];
          }
        }
        if (!c) {
          return;
        }
        if (c.done_at === null || c.done_at === undefined) {
          showMessage(status, 'Restore command ' + id + (c.picked_at ? ' is running on the terminal' + ww.ELLIPSIS : ' is queued for the terminal' + ww.ELLIPSIS));
          return;
        }
        window.clearInterval(polling);
        polling = null;
        showMessage(status, 'Restore command ' + id + (c.ok ? ' is done.' : ' failed.'));
        status.setAttribute('data-state', c.ok ? 'done' : 'failed');
        clear(result);
        lines = restoreOutcome(c);
        for (i = 0; i < lines.length; i++) {
          result.appendChild(el('li', null, lines[i]));
        }
      });
    }

    review.addEventListener('click', function () {
      var r = request();
      clear(summary);
      append(summary, 'Restore ' + (r.paths.length ? r.paths.join(', ') : 'the whole snapshot') + ' from snapshot ' +
        (r.snapshot ? r.snapshot.substring(0, 12) : 'newest') + (r.target ? ' into ' + r.target : ' in place') +
        ' on ' + str(h.hostname || h.host_id) + '?');
      summary.hidden = false;
      go.hidden = false;
    });
    go.addEventListener('click', function () {
      go.disabled = true;
      api('POST', hostPath(h.host_id, '/backup/restore'), request(), function (err, data) {
        var id;
        if (!view.alive()) {
          return;
        }
        go.disabled = false;
        if (err) {
          showError('The restore was not queued: ' + err.message);
          return;
        }
        clearError();
        go.hidden = true;
        summary.hidden = true;
        id = data && data.command ? data.command.id : null;
        status.setAttribute('data-command', String(id));
        showMessage(status, 'Restore command ' + id + ' is queued for the terminal' + ww.ELLIPSIS);
        clear(result);
        if (polling) {
          window.clearInterval(polling);
        }
        polling = window.setInterval(function () {
          follow(id);
        }, RESTORE_POLL_MS);
      });
    });
    cancel.addEventListener('click', function () {
      if (polling) {
        window.clearInterval(polling);
        polling = null;
      }
      clear(panel);
      panel.hidden = true;
    });
  }

  function hostRow(h, onRestore) {
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
      el('td', { className: 'backup-problems' }, problems.length ? list : el('span', { className: 'muted' }, 'all well')),
      onRestore ? el('td', null, el('button', {
        type: 'button', className: 'btn restore-open', 'data-host': str(h.host_id),
        onclick: function () { onRestore(h); }
      }, 'Restore' + ww.ELLIPSIS)) : null
    ]);
  }

  function showBackups() {
    var view = beginView('backups');
    var body = el('div', { id: 'backups-body' });
    var policy = el('p', { id: 'backups-policy', className: 'muted small' });
    var restorePanel = el('section', { id: 'backup-restore', className: 'notice', hidden: true });
    var isAdmin = ww.may('act');
    var onRestore = isAdmin ? function (h) {
      restoreForm(view, restorePanel, h);
    } : null;
    setTitle('Backups');
    append(document.getElementById('app'), [
      el('h1', null, 'Backups'),
      el('p', { className: 'legend' }, 'Each terminal backs up to its own append-only repository on this server; terminals can add backups but never delete or change one. Retention runs here only, by the time each backup arrived.'),
      policy,
      restorePanel,
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
        ].concat(isAdmin ? [{ label: '', className: 'shrink' }] : []));
        rows = document.createDocumentFragment();
        bad = 0;
        byDept[depts[i]].forEach(function (h) {
          if (isArray(h.problems) && h.problems.length) {
            bad += 1;
          }
          rows.appendChild(hostRow(h, onRestore));
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
