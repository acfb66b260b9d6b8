/*
 * wardwatch console, alerts.js: the alerts of every host (#/alerts, newest first, paged
 * backwards) and the page of one alert (#/alerts/ID): the process, its parent chain and
 * every file it touched.
 *
 * Every field of an alert comes from a terminal and may be hostile: it is inserted as
 * text only, and class names are taken from fixed lists, never from the data.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var setClass = ww.setClass, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var plural = ww.plural, formatCount = ww.formatCount, shortDate = ww.shortDate;
  var fullDate = ww.fullDate, relTime = ww.relTime, dateAndAgo = ww.dateAndAgo;
  var api = ww.api, encodeQuery = ww.encodeQuery, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var summaryCard = ww.summaryCard, backLink = ww.backLink, noticeWithLink = ww.noticeWithLink;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, openRowOnClick = ww.openRowOnClick;
  var ELLIPSIS = ww.ELLIPSIS, DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  var ALERT_PAGE_SIZE = 100;
  var ALERT_LIST_PATHS = 3;      // file paths shown per alert in the list
  var ALERT_CMDLINE_CHARS = 160; // command line shown in the list, before an ellipsis

  var KNOWN_LEVELS = { suspicious: true, suspend: true, kill: true, low: true, medium: true, high: true, critical: true };
  var ACTION_TITLES = {
    reported: 'Only reported: no process was stopped',
    suspended: 'The process tree was stopped (SIGSTOP) and is waiting for a decision',
    killed: 'The process tree was killed',
    refused: 'The guard would not signal this process (protected or out of its scope)',
    gone: 'The process had already exited'
  };

  function alertPath(id) {
    return '/api/alerts/' + encodeURIComponent(id);
  }

  function alertHash(id) {
    return '#/alerts/' + encodeURIComponent(id);
  }

  /* The detector's verdict, or the severity when a detector gives none. */
  function alertLevel(a) {
    return a.level ? String(a.level) : (a.severity ? String(a.severity) : 'alert');
  }

  /* Top priority: a process was (to be) stopped or killed. */
  function alertUrgent(a) {
    var level = str(a.level);
    var action = str(a.action);
    if (level === 'kill' || level === 'suspend' || action === 'killed' || action === 'suspended') {
      return true;
    }
    return !level && (a.severity === 'critical' || a.severity === 'high');
  }

  function levelBadge(a) {
    var level = alertLevel(a);
    var cls = KNOWN_LEVELS[level] === true ? level : 'other';
    return el('span', {
      className: 'level level-' + cls,
      title: a.severity ? 'Severity: ' + String(a.severity) : null
    }, level);
  }

  function actionNode(a, withPids) {
    var out = [], i, refused = isArray(a.refused) ? a.refused : [], r, pids = [];
    var action = a.action ? String(a.action) : '';
    out.push(action ? el('span', {
      className: 'action action-' + (ACTION_TITLES[action] ? action : 'other'),
      title: ACTION_TITLES[action] || null
    }, action) : orDash(''));
    if (withPids && isArray(a.action_pids) && a.action_pids.length) {
      out.push(el('span', { className: 'muted' }, ' pid ' + a.action_pids.join(', ')));
    }
    for (i = 0; i < refused.length; i++) {
      r = refused[i] || {};
      pids.push('pid ' + str(r.pid) + (r.reason ? ' (' + String(r.reason) + ')' : ''));
    }
    if (pids.length) {
      out.push(el('div', { className: 'refused' }, 'refused: ' + pids.join(', ')));
    }
    return out;
  }

  function cmdlineText(list) {
    return isArray(list) ? list.join(' ') : '';
  }

  function clip(text, max) {
    text = str(text);
    return text.length > max ? text.substring(0, max) + ELLIPSIS : text;
  }

  function userText(p) {
    if (!p) {
      return '';
    }
    if (p.user) {
      return String(p.user) + (p.uid !== null && p.uid !== undefined ? ' (' + p.uid + ')' : '');
    }
    return p.uid !== null && p.uid !== undefined ? 'uid ' + p.uid : '';
  }

  /* On a file server the writer is Samba; who matters is the client machine. */
  function smbClientText(c) {
    var who = [];
    if (c.user) {
      who.push('user ' + String(c.user));
    }
    if (c.machine && c.machine !== c.address) {
      who.push(String(c.machine));
    }
    if (isArray(c.shares) && c.shares.length) {
      who.push((c.shares.length === 1 ? 'share ' : 'shares ') + c.shares.join(', '));
    }
    return 'SMB client ' + str(c.address) + (who.length ? ' (' + who.join(', ') + ')' : '');
  }

  function hostNameOf(a) {
    return a.hostname ? String(a.hostname) : str(a.host_id);
  }

  /* ---------- the list ---------- */

  function showAlerts() {
    var view = beginView('alerts');
    var before = null;        // null: the newest page
    var newer = [];           // the `before` of each newer page, for going back
    var nextBefore = null;
    var loaded = false;
    var loading = false;
    setTitle('Alerts');

    var shownInfo = el('span', { className: 'info', id: 'alerts-shown' });
    var updated = el('span', { className: 'info', id: 'alerts-updated' });
    var newest = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newest', disabled: true }, '\u00ab Newest');
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newer', disabled: true }, '\u2039 Newer');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-older', disabled: true }, 'Older \u203a');
    var t = dataTable('alerts-table', [
      { label: 'Received', className: 'shrink', title: 'When the server received the alert' },
      { label: 'Host' },
      { label: 'Level', className: 'shrink' },
      { label: 'Action', className: 'shrink' },
      { label: 'Process' },
      { label: 'User', className: 'shrink' },
      { label: 'Files' }
    ]);
    loadingRow(t, 'Loading alerts');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Alerts')]),
      el('div', { className: 'summary', id: 'alerts-summary' }, [
        summaryCard('alerts-last-24h', 'Last 24 h', 'alerts'),
        summaryCard('alerts-urgent', 'Suspended or killed, 24 h', 'urgent-count'),
        summaryCard('alerts-total', 'All alerts', 'total')
      ]),
      el('div', { className: 'toolbar' }, [
        shownInfo,
        el('span', { className: 'spacer' }),
        updated,
        el('span', { className: 'pager' }, [newest, prev, next])
      ]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, 'Newest first. Highlighted: alerts where a process was suspended or killed. ' +
        'Times are the server\'s; click an alert for the process, its parents and every file it touched.')
    ]);

    function filesNode(a) {
      var paths = isArray(a.file_paths) ? a.file_paths : [];
      var total = typeof a.files_total === 'number' ? a.files_total : paths.length;
      var list = el('div', { className: 'paths' }), i;
      for (i = 0; i < paths.length && i < ALERT_LIST_PATHS; i++) {
        list.appendChild(el('div', { className: 'mono path' }, String(paths[i])));
      }
      return [el('span', { className: 'files-count' }, plural(total, 'file', 'files')),
        total > Math.min(paths.length, ALERT_LIST_PATHS) && paths.length ?
          el('span', { className: 'muted' }, ', first ' + Math.min(paths.length, ALERT_LIST_PATHS) + ':') : null,
        paths.length ? list : null];
    }

    function processNode(a) {
      var p = a.process;
      var cmd;
      if (!p) {
        return a.title ? el('span', { className: 'wrap' }, String(a.title)) : orDash('');
      }
      cmd = cmdlineText(p.cmdline);
      return [
        a.smb_client ? el('div', { className: 'smb-client' }, smbClientText(a.smb_client)) : null,
        el('div', { className: 'mono exe' }, p.exe ? String(p.exe) : 'pid ' + str(p.pid)),
        cmd ? el('div', { className: 'mono cmdline muted', title: clip(cmd, 2000) }, clip(cmd, ALERT_CMDLINE_CHARS)) : null,
        p.pid !== null && p.pid !== undefined ? el('div', { className: 'muted small' }, 'pid ' + p.pid) : null
      ];
    }

    function alertRow(a) {
      var urgent = alertUrgent(a);
      return el('tr', {
        className: 'alert-row' + (urgent ? ' alert-urgent' : ''),
        'data-alert-id': str(a.id), 'data-level': alertLevel(a), 'data-action': str(a.action)
      }, [
        el('td', { className: 'nowrap' }, [
          el('a', { className: 'alert-link', href: alertHash(a.id), title: fullDate(a.received_at) }, shortDate(a.received_at)),
          el('div', { className: 'muted small' }, relTime(a.received_at))
        ]),
        el('td', null, [
          el('a', { className: 'host-link', href: hostHash(a.host_id) }, hostNameOf(a)),
          a.department ? el('div', { className: 'muted small' }, String(a.department)) : null
        ]),
        el('td', { className: 'nowrap' }, levelBadge(a)),
        el('td', { className: 'nowrap' }, actionNode(a, false)),
        el('td', { className: 'wrap' }, processNode(a)),
        el('td', { className: 'wrap' }, orDash(userText(a.process))),
        el('td', { className: 'wrap' }, filesNode(a))
      ]);
    }

    function render(data) {
      var list = isArray(data.alerts) ? data.alerts : [];
      var frag = document.createDocumentFragment();
      var i;
      setText(byId('alerts-last-24h'), formatCount(data.last_24h));
      setText(byId('alerts-urgent'), formatCount(data.last_24h_urgent));
      setText(byId('alerts-total'), formatCount(data.total));
      for (i = 0; i < list.length; i++) {
        frag.appendChild(alertRow(list[i] || {}));
      }
      fillTable(t, frag, list.length, before === null ?
        'No alerts yet. Alerts from the terminals\u2019 ransomware guard appear here as soon as they arrive.' :
        'No older alerts.');
      nextBefore = typeof data.next_before === 'number' ? data.next_before : null;
      next.disabled = nextBefore === null;
      prev.disabled = newer.length === 0;
      newest.disabled = before === null;
      setText(shownInfo, list.length ? (before === null ? 'The newest ' : '') +
        plural(list.length, 'alert', 'alerts') + (before === null ? '' : ', older page') : '');
      updated.setAttribute('title', before === null ? 'Refreshed every ' + (REFRESH_MS / 1000) + ' s' : 'Not refreshed while looking at older alerts');
      setText(updated, 'Updated ' + shortDate(new Date().getTime()).substring(11));
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      setClass(t.table, 'loading', true);
      api('GET', '/api/alerts' + encodeQuery({ limit: ALERT_PAGE_SIZE, before: before }), null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        setClass(t.table, 'loading', false);
        if (err) {
          showError('Could not load the alerts: ' + err.message);
          if (!loaded) {
            messageRow(t.tbody, t.columns, 'The alerts could not be loaded. They are tried again every ' +
              (REFRESH_MS / 1000) + ' s.', 'placeholder-row');
          }
          return;
        }
        loaded = true;
        clearError();
        render(data);
      });
    }

    next.addEventListener('click', function () {
      if (nextBefore === null || loading) {
        return;
      }
      newer.push(before);
      before = nextBefore;
      load();
    }, false);
    prev.addEventListener('click', function () {
      if (!newer.length || loading) {
        return;
      }
      before = newer.pop();
      load();
    }, false);
    newest.addEventListener('click', function () {
      if (loading) {
        return;
      }
      newer = [];
      before = null;
      load();
    }, false);

    /* A click anywhere on a row opens the alert (unless on a link or selecting text). */
    openRowOnClick(t.tbody, 'alert-row', 'data-alert-id', alertHash);

    load();
    view.every(REFRESH_MS, function () {
      if (before === null) {
        load();
      }
    });
  }

  /* ---------- one alert ---------- */

  function hashNode(h) {
    if (!h || !h.sha256) {
      return orDash('');
    }
    return [el('span', { className: 'mono hash' }, String(h.sha256)),
      h.sampled ? el('span', { className: 'flag', title: 'Hash of sampled blocks of a large file: shows that it changed, but cannot be compared with a backup' }, 'sampled') : null];
  }

  function changeText(c) {
    var name = str(c && c.change).replace(/_/g, ' ');
    return c && c.path ? name + ' ' + String(c.path) : name;
  }

  /* A detector's signal, shown as its name and its other fields as plain text. */
  function signalText(sig) {
    var parts = [], key, value;
    if (!sig || typeof sig !== 'object') {
      return str(sig);
    }
    for (key in sig) {
      if (!Object.prototype.hasOwnProperty.call(sig, key) || key === 'signal') {
        continue;
      }
      value = sig[key];
      parts.push(key + ': ' + (value !== null && typeof value === 'object' ? JSON.stringify(value) : str(value)));
    }
    return str(sig.signal).replace(/_/g, ' ') + (parts.length ? ' ' + DASH + ' ' + parts.join(', ') : '');
  }

  function showAlert(alertId) {
    var view = beginView('alert');
    var app = byId('app');
    setTitle('Alert ' + alertId);

    var title = el('h1', { className: 'alert-title' }, 'Alert ' + alertId);
    var badges = el('span', { className: 'alert-badges' });
    var body = el('div', { id: 'alert-body' });
    append(app, [
      backLink('#/alerts', 'All alerts'),
      el('div', { className: 'page-head' }, [title, badges]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, 'Loading alert' + ELLIPSIS));

    function fact(key, label, value, wide) {
      return ww.fact({ id: 'alert-fact-' + key }, label, value, wide);
    }

    function section(id, heading, content) {
      return el('section', { className: 'alert-section', id: id }, [el('h2', null, heading), content]);
    }

    /* An admin's button that queues a command: disabled while asking, its answer or
       refusal said in `status`, the queued command handed to `queued` for the sentence. */
    function queueOnClick(button, status, asking, path, body, queued) {
      button.addEventListener('click', function () {
        button.disabled = true;
        ww.setText(status, asking + ww.ELLIPSIS);
        api('POST', path, body, function (err, data) {
          if (!view.alive()) {
            return;
          }
          if (err) {
            button.disabled = false;
            ww.setText(status, 'Not queued: ' + err.message);
            return;
          }
          ww.setText(status, queued((data && data.command) || {}));
        });
      });
    }

    function processFacts(p) {
      if (!p) {
        return el('p', { className: 'placeholder' }, 'The alert names no process.');
      }
      return el('dl', { className: 'facts', id: 'alert-process' }, [
        fact('pid', 'PID', orDash(p.pid)),
        fact('exe', 'Executable', p.exe ? el('span', { className: 'mono' }, String(p.exe)) : orDash(''), true),
        fact('user', 'User', orDash(userText(p))),
        fact('sha256', 'Executable SHA-256', p.exe_sha256 ? el('span', { className: 'mono hash' }, String(p.exe_sha256)) : orDash(''), true),
        fact('ppid', 'Parent PID', orDash(p.ppid)),
        fact('cmdline', 'Command line', isArray(p.cmdline) && p.cmdline.length ?
          el('span', { className: 'mono cmdline' }, cmdlineText(p.cmdline)) : orDash(''), true),
        fact('started', 'Started', dateAndAgo(p.start_time_ms)),
        fact('cwd', 'Working directory', p.cwd ? el('span', { className: 'mono' }, String(p.cwd)) : orDash(''), true)
      ]);
    }

    /* The client behind a file server's smbd, and for admins the block that keeps it
       from simply connecting again. */
    function smbClientFacts(a) {
      var c = a.smb_client || {};
      var status, button, args;
      var facts = el('dl', { className: 'facts', id: 'alert-smb-client' }, [
        fact('smb-address', 'Client address', el('span', { className: 'mono' }, str(c.address) + (c.port ? ':' + c.port : ''))),
        fact('smb-user', 'Logged in as', orDash(c.user)),
        fact('smb-machine', 'Machine name', orDash(c.machine)),
        fact('smb-shares', 'Shares', orDash(isArray(c.shares) ? c.shares.join(', ') : '')),
        fact('smb-port', 'Server port', orDash(c.server_port)),
        fact('smb-dialect', 'Dialect', orDash(c.dialect))
      ]);
      if (!ww.may('act') || !c.address) {
        return facts;
      }
      status = el('p', { id: 'alert-smb-block-status', className: 'muted small', role: 'status' });
      button = el('button', { type: 'button', className: 'btn btn-primary', id: 'alert-smb-block' },
        'Block this client on ' + hostNameOf(a));
      args = { address: String(c.address) };
      if (c.server_port) {
        args.port = c.server_port;
      }
      queueOnClick(button, status, 'Asking the file server', ww.hostPath(a.host_id, '/commands'),
        { kind: 'smb.block', args: args }, function (command) {
          return 'Queued as command ' + str(command.id) + ': the file server refuses ' + str(c.address) +
            ' on its SMB port when it next polls. Unblock it from the host page once the machine is clean.';
        });
      return [facts, el('p', null, 'The client can connect again and go on unless it is blocked: the block closes the file server\u2019s SMB port to this address only.'),
        button, status];
    }

    function parentsTable(list) {
      var t = dataTable('alert-parents', [
        { label: 'Generation', className: 'shrink' },
        { label: 'PID', className: 'num shrink' },
        { label: 'Executable' },
        { label: 'Command line' }
      ]);
      var i, p;
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'No parents reported (the process was started by init or the chain was not known).');
      }
      for (i = 0; i < list.length; i++) {
        p = list[i] || {};
        t.tbody.appendChild(el('tr', { className: 'parent-row' }, [
          el('td', { className: 'nowrap muted' }, i === 0 ? 'parent' : (i === 1 ? 'grandparent' : (i + 1) + ' up')),
          el('td', { className: 'num' }, orDash(p.pid)),
          el('td', { className: 'mono wrap' }, orDash(p.exe)),
          el('td', { className: 'mono wrap' }, orDash(cmdlineText(p.cmdline)))
        ]));
      }
      return el('div', { className: 'table-wrap' }, t.table);
    }

    function filesTable(a) {
      var list = isArray(a.files) ? a.files : [];
      var t = dataTable('alert-files', [
        { label: 'Path' },
        { label: 'Changes' },
        { label: 'PIDs', className: 'shrink' },
        { label: 'SHA-256 before', title: 'Content hash when the guard last saw the file before the change' },
        { label: 'SHA-256 after', title: 'Content hash when the alert was raised (none: the file is gone)' }
      ]);
      var i, f, changes, j;
      if (!list.length) {
        messageRow(t.tbody, t.columns, 'The alert lists no files.');
      }
      for (i = 0; i < list.length; i++) {
        f = list[i] || {};
        changes = [];
        if (isArray(f.changes)) {
          for (j = 0; j < f.changes.length; j++) {
            changes.push(el('div', null, changeText(f.changes[j])));
          }
        }
        t.tbody.appendChild(el('tr', { className: 'file-row' }, [
          el('td', { className: 'mono wrap' }, orDash(f.path)),
          el('td', { className: 'wrap' }, changes.length ? changes : orDash('')),
          el('td', { className: 'nowrap' }, isArray(f.pids) && f.pids.length ? f.pids.join(', ') : orDash('')),
          el('td', { className: 'wrap' }, hashNode(f.before)),
          el('td', { className: 'wrap' }, hashNode(f.after))
        ]));
      }
      return [
        el('div', { className: 'table-wrap' }, t.table),
        a.files_omitted ? el('p', { className: 'legend', id: 'alert-files-omitted' },
          plural(a.files_omitted, 'more file was', 'more files were') + ' touched but left out of the alert by the terminal.') : null
      ];
    }

    function render(a) {
      var times = a.times || {};
      var signals = isArray(a.signal_details) ? a.signal_details : [];
      var problems = isArray(a.problems) ? a.problems : [];
      var signalList = el('ul', { className: 'signals', id: 'alert-signals' });
      var problemList = el('ul', null);
      var i;
      setText(title, a.title ? String(a.title) : 'Alert ' + alertId);
      title.setAttribute('id', 'alert-title');
      setTitle('Alert ' + alertId + ' on ' + hostNameOf(a));
      clear(badges);
      append(badges, [levelBadge(a), ' ', actionNode(a, false)]);
      for (i = 0; i < signals.length; i++) {
        signalList.appendChild(el('li', null, signalText(signals[i])));
      }
      for (i = 0; i < problems.length; i++) {
        problemList.appendChild(el('li', null, String(problems[i])));
      }
      clear(body);
      append(body, [
        problems.length ? el('div', { className: 'notice notice-warn', id: 'alert-problems' }, [
          el('p', null, 'Parts of this alert could not be read and are not shown:'), problemList]) : null,
        el('dl', { className: 'facts', id: 'alert-facts' }, [
          fact('host', 'Host', [el('a', { className: 'host-link', href: hostHash(a.host_id) }, hostNameOf(a)),
            a.department ? el('span', { className: 'muted' }, ' ' + String(a.department)) : null]),
          fact('received', 'Received', dateAndAgo(a.received_at)),
          fact('raised', 'Raised on the terminal', dateAndAgo(typeof a.alert_time === 'number' ? a.alert_time : a.time)),
          fact('level', 'Level', levelBadge(a)),
          fact('action', 'Action', actionNode(a, true)),
          fact('severity', 'Severity', orDash(a.severity)),
          fact('score', 'Score', orDash(a.score)),
          fact('source', 'Detector', orDash(a.source)),
          fact('first-change', 'First change', dateAndAgo(times.first_event)),
          fact('stopped', 'Process stopped', dateAndAgo(times.action)),
          fact('files', 'Files touched', formatCount(a.files_total)),
          fact('id', 'Alert', el('span', { className: 'mono' }, '#' + str(a.id) + ' (event ' + str(a.seq) + ' of ' + str(a.host_id) + ')'))
        ]),
        signals.length ? section('alert-signals-section', 'Why', signalList) : null,
        a.smb_client ? section('alert-smb-section', 'File-server client', smbClientFacts(a)) : null,
        section('alert-process-section', 'Process', processFacts(a.process)),
        section('alert-parents-section', 'Parent chain', parentsTable(isArray(a.parents) ? a.parents : [])),
        section('alert-files-section', 'Files (' + formatCount(a.files_total) + ')', filesTable(a)),
        restoreSection(a)
      ]);
    }

    /* A guard alert's files can be put back from the terminal's backups (admins). */
    function restoreSection(a) {
      var status, button;
      if (!a.source || String(a.source).indexOf('guard.') !== 0 || !ww.may('act')) {
        return null;
      }
      status = el('p', { id: 'alert-restore-status', className: 'muted small', role: 'status' });
      button = el('button', { type: 'button', className: 'btn btn-primary', id: 'alert-restore' }, 'Restore these files from backup');
      queueOnClick(button, status, 'Asking the terminal', alertPath(alertId) + '/restore', {}, function (c) {
        var files = c.args && ww.isArray(c.args.files) ? c.args.files.length : 0;
        return 'Queued as command ' + str(c.id) + ' for ' + plural(files, 'file', 'files') +
          ': the terminal restores them when it next polls (see its commands on the host page). Damaged files are kept beside the restored ones.';
      });
      return section('alert-restore-section', 'Recover', [
        el('p', null, 'Puts back every file listed above from the newest backup taken before the first change, each checked against its hash from before.'),
        button, status
      ]);
    }

    api('GET', alertPath(alertId), null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        showError(err.status === 404 ? err.message : 'Could not load the alert: ' + err.message);
        clear(body);
        append(body, noticeWithLink('alert-not-found',
          err.status === 404 ? 'There is no alert ' + alertId + ' on this server.' : 'The alert could not be loaded.',
          '#/alerts', 'Back to the alerts'));
        return;
      }
      if (!data.alert) {
        showError('The server sent no alert in its answer.');
        return;
      }
      clearError();
      render(data.alert);
    });
  }

  ww.views.alerts = showAlerts;
  ww.views.alert = showAlert;
}(wardwatch));
