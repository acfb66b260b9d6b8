/*
 * wardwatch console, audit.js: the audit record (#/audit): who did what, newest first, a
 * page at a time; the server's audit public key for auditors; and, for admins, a
 * checkpoint signed now. Every field of an entry is text (a terminal names some of them).
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, setText = ww.setText;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var formatCount = ww.formatCount, dateCell = ww.dateCell, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var setTitle = ww.setTitle, dataTable = ww.dataTable, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, messageRow = ww.messageRow, state = ww.state;

  ww.i18n.add({
    en: {
      'audit.title': 'Audit record', 'audit.loading': 'Loading the audit record',
      'audit.time': 'Time', 'audit.who': 'Who', 'audit.action': 'Action', 'audit.object': 'Object', 'audit.detail': 'Detail',
      'audit.newest': '\u00ab Newest', 'audit.newer': '\u2039 Newer', 'audit.older': 'Older \u203a',
      'audit.signNow': 'Sign a checkpoint now', 'audit.checkpoints': 'Checkpoints',
      'audit.checkpointsNote': 'The server signs a checkpoint of this record at a fixed interval and copies it ' +
        'to the checkpoint file (--audit-checkpoints), syslog and the webhook. ' +
        '"wardwatch audit verify --checkpoints FILE" then finds any entry edited, removed, inserted or reordered ' +
        'in the database, even by its administrator. Auditors check with this public key:',
      'audit.key': 'Key ', 'audit.adminOnly': 'Only an admin may sign a checkpoint on demand.',
      'audit.unknown': 'unknown', 'audit.keyError': 'Could not load the audit key: {message}',
      'audit.checkpointFailed': 'No checkpoint was made: {message}',
      'audit.checkpointSigned': 'Checkpoint {seq} signed over entries {first} to {last}.',
      'audit.nothingNew': 'Nothing was recorded since the last checkpoint.',
      'audit.empty': 'The audit record is empty.', 'audit.noOlder': 'No older entries.',
      'audit.entries.one': '{n} entry', 'audit.entries.many': '{n} entries',
      'audit.loadError': 'Could not load the audit record: {message}',
      'audit.loadFailed': 'The audit record could not be loaded.'
    },
    zh: {
      'audit.title': '审计记录', 'audit.loading': '正在加载审计记录',
      'audit.time': '时间', 'audit.who': '操作人', 'audit.action': '操作', 'audit.object': '对象', 'audit.detail': '详情',
      'audit.newest': '\u00ab 最新', 'audit.newer': '\u2039 较新', 'audit.older': '较早 \u203a',
      'audit.signNow': '立即签署检查点', 'audit.checkpoints': '检查点',
      'audit.checkpointsNote': '服务器按固定间隔为本记录签署检查点，并复制到检查点文件（--audit-checkpoints）、' +
        'syslog 和 webhook。之后运行 "wardwatch audit verify --checkpoints FILE"，' +
        '就能发现数据库中被修改、删除、插入或调换顺序的任何记录，即使是数据库管理员所为。审计员用以下公钥核验：',
      'audit.key': '密钥 ', 'audit.adminOnly': '只有管理员可以随时签署检查点。',
      'audit.unknown': '未知', 'audit.keyError': '无法加载审计密钥：{message}',
      'audit.checkpointFailed': '未生成检查点：{message}',
      'audit.checkpointSigned': '已签署检查点 {seq}，涵盖第 {first} 至 {last} 条记录。',
      'audit.nothingNew': '自上一个检查点以来没有新的记录。',
      'audit.empty': '审计记录为空。', 'audit.noOlder': '没有更早的记录。',
      'audit.entries.one': '{n} 条记录', 'audit.entries.many': '{n} 条记录',
      'audit.loadError': '无法加载审计记录：{message}',
      'audit.loadFailed': '无法加载审计记录。'
    }
  });

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
    setTitle(ww.t('audit.title'));

    var t = dataTable('audit-table', [
      { label: '#', className: 'num shrink' },
      { label: ww.t('audit.time'), className: 'shrink' },
      { label: ww.t('audit.who'), className: 'shrink' },
      { label: ww.t('audit.action'), className: 'shrink' },
      { label: ww.t('audit.object') },
      { label: ww.t('audit.detail') }
    ]);
    loadingRow(t, ww.t('audit.loading'));
    var shownInfo = el('span', { className: 'info', id: 'audit-shown' });
    var newest = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-newest', disabled: true }, ww.t('audit.newest'));
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-newer', disabled: true }, ww.t('audit.newer'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'audit-older', disabled: true }, ww.t('audit.older'));

    var keyId = el('code', { id: 'audit-key-id' }, '\u2026');
    var keyText = el('pre', { id: 'audit-public-key', className: 'small' }, '');
    var checkpointNote = el('div', { id: 'audit-checkpoint-status', className: 'form-note', role: 'status', hidden: true });
    var checkpointButton = el('button', { type: 'button', className: 'btn btn-primary', id: 'audit-checkpoint' }, ww.t('audit.signNow'));
    var isAdmin = ww.may('change_settings');

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('audit.title'))]),
      el('section', { id: 'audit-checkpoints' }, [
        el('h2', { className: 'panel-heading' }, ww.t('audit.checkpoints')),
        el('p', { className: 'muted' }, ww.t('audit.checkpointsNote')),
        el('p', null, [ww.t('audit.key'), keyId]),
        keyText,
        checkpointNote,
        isAdmin ? checkpointButton : el('p', { className: 'muted', id: 'audit-checkpoint-viewer-note' },
          ww.t('audit.adminOnly'))
      ]),
      el('div', { className: 'table-tools' }, [shownInfo, newest, prev, next]),
      t.table
    ]);

    api('GET', '/api/audit/key', null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        setText(keyId, ww.t('audit.unknown'));
        showError(ww.t('audit.keyError', { message: err.message }));
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
          showMessage(checkpointNote, ww.t('audit.checkpointFailed', { message: err.message }));
          return;
        }
        showMessage(checkpointNote, data ?
          ww.t('audit.checkpointSigned', { seq: data.seq, first: data.first_id, last: data.last_id }) :
          ww.t('audit.nothingNew'));
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
      fillTable(t, frag, list.length, before === null ? ww.t('audit.empty') : ww.t('audit.noOlder'));
      nextBefore = typeof data.next_before === 'number' ? data.next_before : null;
      next.disabled = nextBefore === null;
      prev.disabled = newer.length === 0;
      newest.disabled = before === null;
      setText(shownInfo, list.length ? ww.t(list.length === 1 ? 'audit.entries.one' : 'audit.entries.many', { n: formatCount(list.length) }) : '');
    }

    function load() {
      api('GET', '/api/audit' + encodeQuery({ limit: AUDIT_PAGE_SIZE, before: before }), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('audit.loadError', { message: err.message }));
          messageRow(t.tbody, t.columns, ww.t('audit.loadFailed'), 'placeholder-row');
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
