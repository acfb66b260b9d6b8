/*
 * wardwatch console, incidents.js: the incidents (#/incidents), newest activity first,
 * and one incident (#/incidents/ID): its hosts, timeline of alerts and of what the
 * server saw itself (signals), what joined them,
 * its state, assignee and notes, which admins change. Everything a terminal named is
 * text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, setText = ww.setText, clear = ww.clear;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var dateCell = ww.dateCell, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var setTitle = ww.setTitle, dataTable = ww.dataTable, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, messageRow = ww.messageRow, state = ww.state;
  var backLink = ww.backLink, REFRESH_MS = ww.REFRESH_MS;

  var NEXT_STATES = {
    'new': ['acknowledged', 'contained', 'resolved'],
    acknowledged: ['contained', 'resolved'],
    contained: ['resolved'],
    resolved: ['acknowledged']
  };
  var STATE_BUTTON = { acknowledged: 'Acknowledge', contained: 'Mark contained', resolved: 'Resolve' };

  function showIncidents() {
    var view = beginView('incidents');
    setTitle('Incidents');
    var t = dataTable('incidents-table', [
      { label: '#', className: 'num shrink' },
      { label: 'Last activity', className: 'shrink' },
      { label: 'Incident' },
      { label: 'Severity', className: 'shrink' },
      { label: 'State', className: 'shrink' },
      { label: 'Hosts' },
      { label: 'Events', className: 'num shrink' },
      { label: 'Assignee', className: 'shrink' }
    ]);
    loadingRow(t, 'Loading incidents');
    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Incidents')]),
      el('p', { className: 'muted' }, 'Alerts grouped as they arrive: one terminal within an hour, and terminals that ' +
        'share an executable, a file or a person\u2019s account within a day. What the server sees itself joins them too: ' +
        'refused enrolments and bundles, overflowing spools, exploited vulnerabilities found, signatures left behind.'),
      t.table
    ]);

    function load() {
      api('GET', '/api/incidents' + encodeQuery({ limit: 200 }), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the incidents: ' + err.message);
          messageRow(t.tbody, t.columns, 'The incidents could not be loaded.', 'placeholder-row');
          return;
        }
        clearError();
        var list = isArray(data.incidents) ? data.incidents : [];
        var frag = document.createDocumentFragment();
        var i, inc;
        for (i = 0; i < list.length; i++) {
          inc = list[i] || {};
          frag.appendChild(el('tr', { className: 'incident-row', 'data-id': String(inc.id) }, [
            el('td', { className: 'num shrink' }, el('a', { href: '#/incidents/' + encodeURIComponent(String(inc.id)) }, String(inc.id))),
            dateCell(inc.last_at),
            el('td', { className: 'wrap' }, el('a', { href: '#/incidents/' + encodeURIComponent(String(inc.id)) }, str(inc.title))),
            el('td', { className: 'shrink' }, orDash(inc.severity)),
            el('td', { className: 'shrink incident-state' }, orDash(inc.state)),
            el('td', { className: 'wrap incident-hosts' }, isArray(inc.hosts) ? inc.hosts.join(', ') : ''),
            el('td', { className: 'num shrink' }, String((inc.alerts || 0) + (inc.signals || 0))),
            el('td', { className: 'shrink' }, orDash(inc.assignee))
          ]));
        }
        fillTable(t, frag, list.length, 'No incidents. Alerts from the terminals are grouped into incidents here as they arrive.');
      });
    }
    load();
    view.every(REFRESH_MS, load);
  }

  function alertRow(a) {
    return el('tr', { className: 'incident-alert', 'data-alert': String(a.id) }, [
      dateCell(a.received_at),
      el('td', { className: 'shrink' }, str(a.hostname)),
      el('td', { className: 'shrink' }, orDash(a.severity)),
      el('td', { className: 'wrap' }, el('a', { href: '#/alerts/' + encodeURIComponent(String(a.id)) },
        str(a.title) || ('alert ' + a.id)))
    ]);
  }

  /** A signal the server recorded itself: its kind and sentence, no link. */
  function signalRow(sig) {
    return el('tr', { className: 'incident-signal', 'data-kind': str(sig.kind) }, [
      dateCell(sig.at),
      el('td', { className: 'shrink' }, orDash(sig.hostname)),
      el('td', { className: 'shrink' }, orDash(sig.severity)),
      el('td', { className: 'wrap' }, [el('span', { className: 'muted' }, str(sig.kind) + ': '), str(sig.title)])
    ]);
  }

  function showIncident(id) {
    var view = beginView('incident');
    setTitle('Incident ' + id);
    var isAdmin = ww.may('act');
    var body = el('div', { id: 'incident-view' });
    var note = el('div', { id: 'incident-status', className: 'form-note', role: 'status', hidden: true });
    append(byId('app'), [backLink('#/incidents', 'All incidents'), note, body]);

    function change(path, payload, done) {
      api('POST', '/api/incidents/' + encodeURIComponent(id) + path, payload, function (err) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showMessage(note, err.message);
          return;
        }
        showMessage(note, done);
        load();
      });
    }

    function render(inc) {
      clear(body);
      var buttons = [];
      var next = NEXT_STATES[inc.state] || [];
      var i;
      if (isAdmin) {
        for (i = 0; i < next.length; i++) {
          (function (to) {
            var b = el('button', { type: 'button', className: 'btn', id: 'incident-to-' + to, 'data-state': to },
              inc.state === 'resolved' ? 'Reopen' : STATE_BUTTON[to]);
            b.addEventListener('click', function () {
              change('/state', { state: to }, 'The incident is ' + to + '.');
            }, false);
            buttons.push(b);
          }(next[i]));
        }
        var assign = el('button', { type: 'button', className: 'btn', id: 'incident-assign' }, 'Assign\u2026');
        assign.addEventListener('click', function () {
          var who = window.prompt('Assign to which console account (empty: nobody)?', str(inc.assignee));
          if (who === null) {
            return;
          }
          change('/assign', { assignee: who.trim() || null }, 'Assignee changed.');
        }, false);
        buttons.push(assign);
      }
      var timeline = dataTable('incident-timeline', [
        { label: 'Received', className: 'shrink' },
        { label: 'Host', className: 'shrink' },
        { label: 'Severity', className: 'shrink' },
        { label: 'Alert' }
      ]);
      // Alerts and signals in one timeline, oldest first.
      var entries = [];
      var alerts = isArray(inc.timeline) ? inc.timeline : [];
      var signals = isArray(inc.signal_list) ? inc.signal_list : [];
      for (i = 0; i < alerts.length; i++) {
        entries.push({ at: alerts[i].received_at, alert: alerts[i] });
      }
      for (i = 0; i < signals.length; i++) {
        entries.push({ at: signals[i].at, signal: signals[i] });
      }
      entries.sort(function (a, b) { return (a.at || 0) - (b.at || 0); });
      var frag = document.createDocumentFragment();
      for (i = 0; i < entries.length; i++) {
        frag.appendChild(entries[i].alert ? alertRow(entries[i].alert) : signalRow(entries[i].signal));
      }
      fillTable(timeline, frag, entries.length, 'Nothing yet.');
      var unlisted = (inc.signals || 0) - signals.length;
      var procs = dataTable('incident-processes', [
        { label: 'Host', className: 'shrink' },
        { label: 'Pid', className: 'num shrink' },
        { label: 'Executable' },
        { label: 'User', className: 'shrink' },
        { label: 'Started by' }
      ]);
      var pfrag = document.createDocumentFragment();
      var ps = isArray(inc.processes) ? inc.processes : [];
      for (i = 0; i < ps.length; i++) {
        pfrag.appendChild(el('tr', { className: 'incident-process' }, [
          el('td', { className: 'shrink' }, str(ps[i].hostname)),
          el('td', { className: 'num shrink' }, orDash(ps[i].pid)),
          el('td', { className: 'wrap', title: 'SHA-256 ' + str(ps[i].exe_sha256) }, orDash(ps[i].exe)),
          el('td', { className: 'shrink' }, orDash(ps[i].user)),
          el('td', { className: 'wrap small' }, isArray(ps[i].parents) ? ps[i].parents.join(' \u2190 ') : '')
        ]));
      }
      fillTable(procs, pfrag, ps.length, 'No process named.');
      var filesTable = dataTable('incident-files', [
        { label: 'Host', className: 'shrink' },
        { label: 'File' },
        { label: 'SHA-256 before', className: 'shrink' }
      ]);
      var ffrag = document.createDocumentFragment();
      var fs = isArray(inc.files) ? inc.files : [];
      for (i = 0; i < fs.length; i++) {
        ffrag.appendChild(el('tr', { className: 'incident-file' }, [
          el('td', { className: 'shrink' }, str(fs[i].hostname)),
          el('td', { className: 'wrap' }, str(fs[i].path)),
          el('td', { className: 'shrink small', title: str(fs[i].sha256_before) }, fs[i].sha256_before ? str(fs[i].sha256_before).substring(0, 16) + '\u2026' : '\u2014')
        ]));
      }
      fillTable(filesTable, ffrag, fs.length, 'No file named.');
      var keys = el('ul', { id: 'incident-keys', className: 'small' });
      var k = isArray(inc.keys) ? inc.keys : [];
      for (i = 0; i < k.length; i++) {
        keys.appendChild(el('li', null, el('code', null, str(k[i]))));
      }
      var notes = el('ul', { id: 'incident-notes' });
      var n = isArray(inc.notes) ? inc.notes : [];
      for (i = 0; i < n.length; i++) {
        notes.appendChild(el('li', { className: 'incident-note' }, [
          el('span', { className: 'muted small' }, str(n[i].author) + ': '), str(n[i].text)
        ]));
      }
      var noteText = el('textarea', { id: 'incident-note-text', rows: 3, maxlength: 4000 });
      var noteButton = el('button', { type: 'button', className: 'btn btn-primary', id: 'incident-note-add' }, 'Add note');
      noteButton.addEventListener('click', function () {
        change('/notes', { text: noteText.value }, 'Note added.');
      }, false);
      append(body, [
        el('div', { className: 'page-head' }, [el('h1', { id: 'incident-title' }, str(inc.title))]),
        el('p', null, [
          'State: ', el('strong', { id: 'incident-state' }, str(inc.state)),
          ' \u00b7 Severity: ', str(inc.severity),
          ' \u00b7 Assignee: ', el('span', { id: 'incident-assignee' }, orDash(inc.assignee)),
          ' \u00b7 Hosts: ', el('span', { id: 'incident-hosts' }, isArray(inc.hosts) ? inc.hosts.join(', ') : '')
        ]),
        isAdmin ? el('div', { className: 'toolbar', id: 'incident-actions' }, buttons) :
          el('p', { className: 'muted' }, 'Only an admin may change an incident.'),
        el('h2', { className: 'panel-heading' }, 'Timeline'),
        el('div', { className: 'table-wrap' }, timeline.table),
        unlisted > 0 ? el('p', { className: 'muted', id: 'incident-unlisted' },
          unlisted + ' more signals of the same kind are counted here but not listed.') : null,
        el('h2', { className: 'panel-heading' }, 'Processes'),
        el('div', { className: 'table-wrap' }, procs.table),
        el('h2', { className: 'panel-heading' }, 'Files'),
        el('div', { className: 'table-wrap' }, filesTable.table),
        el('h2', { className: 'panel-heading' }, 'What joined its alerts'),
        keys,
        el('h2', { className: 'panel-heading' }, 'Notes'),
        notes,
        isAdmin ? el('div', { className: 'field' }, [noteText, noteButton]) : null
      ]);
    }

    function load() {
      api('GET', '/api/incidents/' + encodeURIComponent(id), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the incident: ' + err.message);
          return;
        }
        clearError();
        render(data || {});
      });
    }
    load();
  }

  ww.views.incidents = showIncidents;
  ww.views.incident = showIncident;
}(wardwatch));
