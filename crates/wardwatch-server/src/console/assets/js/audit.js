/*
 * wardwatch console, audit.js: the audit record (#/audit): who did what, newest first, a
 * page at a time; the server's audit public key for auditors; and, for admins, a
 * checkpoint signed now. Every field of an entry is text (a terminal names some of them).
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, setText = ww.setText;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var plural = ww.plural, dateCell = ww.dateCell, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var setTitle = ww.setTitle, dataTable = ww.dataTable, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, messageRow = ww.messageRow, state = ww.state;

  var AUDIT_PAGE_SIZE = 100;
  var DETAIL_SHOWN = 240;

  function detailText(detail) {
    var text = str(detail);
    return text.length > DETAIL_SHOWN ? text.substring(0, DETAIL_SHOWN) + '\u2026' : text;
  }

  function showAudit() {
    var view = beginView('audit');
    var before = null;
    var newer = [];
    var nextBefore = null;
    setTitle('Audit record');

    var t = dataTable('audit-table', [
      { label: '#', className: 'num shrink' },
      { label: 'Time', className: 'shrink' },
      { label: 'Who', className: 'shrink' },
      { label: 'Action', className: 'shrink' },
      { label: 'Object' },
      { label: 'Detail' }
    ]);
    loadingRow(t, 'Loading the audit record');
    var shownInfo = el('span', { className: 'info', id: 'audit-shown' });
    var newest = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-newest', disabled: true }, '\u00ab Newest');
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-newer', disabled: true }, '\u2039 Newer');
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-older', disabled: true }, 'Older \u203a');

    var keyId = el('code', { id: 'audit-key-id' }, '\u2026');
    var keyText = el('pre', { id: 'audit-public-key', className: 'small' }, '');
    var checkpointNote = el('div', { id: 'audit-checkpoint-status', className: 'form-note', role: 'status', hidden: true });
    var checkpointButton = el('button', { type: 'button', className: 'btn btn-primary', id: 'audit-checkpoint' }, 'Sign a checkpoint now');
    var isAdmin = ww.may('change_settings');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Audit record')]),
      el('section', { id: 'audit-checkpoints' }, [
        el('h2', { className: 'panel-heading' }, 'Checkpoints'),
        el('p', { className: 'muted' }, 'The server signs a checkpoint of this record at a fixed interval and copies it ' +
          'to the checkpoint file (--audit-checkpoints), syslog and the webhook. ' +
          '"wardwatch audit verify --checkpoints FILE" then finds any entry edited, removed, inserted or reordered ' +
          'in the database, even by its administrator. Auditors check with this public key:'),
        el('p', null, ['Key ', keyId]),
        keyText,
        checkpointNote,
        isAdmin ? checkpointButton : el('p', { className: 'muted', id: 'audit-checkpoint-viewer-note' },
          'Only an admin may sign a checkpoint on demand.')
      ]),
      el('div', { className: 'table-tools' }, [shownInfo, newest, prev, next]),
      t.table
    ]);

    api('GET', '/api/audit/key', null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        setText(keyId, 'unknown');
        showError('Could not load the audit key: ' + err.message);
        return;
      }
      setText(keyId, str(data.key_id));
      setText(keyText, str(data.public_key));
    });

    checkpointButton.addEventListener('click', function () {
      checkpointButton.disabled = true;
      api('POST', '/api/audit/checkpoint', {}, function (err, data) {
        checkpointButton.disabled = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showMessage(checkpointNote, 'No checkpoint was made: ' + err.message);
          return;
        }
        showMessage(checkpointNote, data ?
          'Checkpoint ' + data.seq + ' signed over entries ' + data.first_id + ' to ' + data.last_id + '.' :
          'Nothing was recorded since the last checkpoint.');
        load();
      });
    });

    function row(e) {
      return el('tr', { className: 'audit-row', 'data-id': String(e.id) }, [
        el('td', { className: 'num shrink' }, String(e.id)),
        dateCell(e.time),
        el('td', { className: 'shrink' }, orDash(e.actor)),
        el('td', { className: 'shrink' }, orDash(e.action)),
        el('td', { className: 'wrap' }, orDash(e.target)),
        el('td', { className: 'wrap small', title: str(e.detail) }, detailText(e.detail))
      ]);
    }

    function render(data) {
      var list = isArray(data.entries) ? data.entries : [];
      var frag = document.createDocumentFragment();
      var i;
      for (i = 0; i < list.length; i++) {
        frag.appendChild(row(list[i] || {}));
      }
      fillTable(t, frag, list.length, before === null ? 'The audit record is empty.' : 'No older entries.');
      nextBefore = typeof data.next_before === 'number' ? data.next_before : null;
      next.disabled = nextBefore === null;
      prev.disabled = newer.length === 0;
      newest.disabled = before === null;
      setText(shownInfo, list.length ? plural(list.length, 'entry', 'entries') : '');
    }

    function load() {
      api('GET', '/api/audit' + encodeQuery({ limit: AUDIT_PAGE_SIZE, before: before }), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the audit record: ' + err.message);
          messageRow(t.tbody, t.columns, 'The audit record could not be loaded.', 'placeholder-row');
          return;
        }
        clearError();
        render(data);
      });
    }

    next.addEventListener('click', function () {
      if (nextBefore !== null) {
        newer.push(before);
        before = nextBefore;
        load();
      }
    });
    prev.addEventListener('click', function () {
      if (newer.length) {
        before = newer.pop();
        load();
      }
    });
    newest.addEventListener('click', function () {
      newer = [];
      before = null;
      load();
    });
    load();
  }

  ww.views.audit = showAudit;
}(wardwatch));
