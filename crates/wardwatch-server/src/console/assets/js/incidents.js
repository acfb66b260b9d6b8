/*
 * wardwatch console, incidents.js: the incidents (#/incidents), newest activity first,
 * searched, filtered by state, sorted and paged (50 at a time) by the server, the list's
 * state kept in the URL; and one incident (#/incidents/ID): its hosts, timeline of
 * alerts and of what the server saw itself (signals), what joined them, its state,
 * assignee and notes, which admins change. Everything a terminal named is text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, setText = ww.setText, clear = ww.clear;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var dateCell = ww.dateCell, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var setTitle = ww.setTitle, dataTable = ww.dataTable, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, messageRow = ww.messageRow, state = ww.state;
  var backLink = ww.backLink, REFRESH_MS = ww.REFRESH_MS, formatCount = ww.formatCount;

  ww.i18n.add({
    en: {
      'incidents.title': 'Incidents', 'incidents.loading': 'Loading incidents',
      'incidents.lastActivity': 'Last activity', 'incidents.incident': 'Incident', 'incidents.severity': 'Severity',
      'incidents.state': 'State', 'incidents.hosts': 'Hosts', 'incidents.events': 'Events', 'incidents.assignee': 'Assignee',
      'incidents.intro': 'Alerts grouped as they arrive: one terminal within an hour, and terminals that ' +
        'share an executable, a file or a person\u2019s account within a day. What the server sees itself joins them too: ' +
        'refused enrolments and bundles, overflowing spools, exploited vulnerabilities found, signatures left behind.',
      'incidents.loadError': 'Could not load the incidents: {message}',
      'incidents.loadFailed': 'The incidents could not be loaded.',
      'incidents.empty': 'No incidents. Alerts from the terminals are grouped into incidents here as they arrive.',
      'incidents.alertFallback': 'alert {id}',
      'incidents.incidentTitle': 'Incident {id}', 'incidents.back': 'All incidents',
      'incidents.reopen': 'Reopen', 'incidents.to.acknowledged': 'Acknowledge',
      'incidents.to.contained': 'Mark contained', 'incidents.to.resolved': 'Resolve',
      'incidents.stateChanged': 'The incident is {state}.',
      'incidents.assign': 'Assign\u2026', 'incidents.assignPrompt': 'Assign to which console account (empty: nobody)?',
      'incidents.assigned': 'Assignee changed.',
      'incidents.received': 'Received', 'incidents.host': 'Host', 'incidents.alert': 'Alert',
      'incidents.nothingYet': 'Nothing yet.',
      'incidents.pid': 'Pid', 'incidents.exe': 'Executable', 'incidents.user': 'User', 'incidents.startedBy': 'Started by',
      'incidents.noProcess': 'No process named.',
      'incidents.file': 'File', 'incidents.hashBefore': 'SHA-256 before', 'incidents.noFile': 'No file named.',
      'incidents.addNote': 'Add note', 'incidents.noteAdded': 'Note added.',
      'incidents.label.state': 'State: ', 'incidents.label.severity': 'Severity: ',
      'incidents.label.assignee': 'Assignee: ', 'incidents.label.hosts': 'Hosts: ',
      'incidents.adminOnly': 'Only an admin may change an incident.',
      'incidents.timeline': 'Timeline',
      'incidents.unlisted': '{n} more signals of the same kind are counted here but not listed.',
      'incidents.processes': 'Processes', 'incidents.files': 'Files', 'incidents.keys': 'What joined its alerts',
      'incidents.notes': 'Notes',
      'incidents.loadOneError': 'Could not load the incident: {message}',
      'incidents.is.new': 'new', 'incidents.is.acknowledged': 'acknowledged',
      'incidents.is.contained': 'contained', 'incidents.is.resolved': 'resolved',
      'incidents.sev.low': 'low', 'incidents.sev.medium': 'medium', 'incidents.sev.high': 'high',
      'incidents.sev.critical': 'critical',
      'incidents.firstActivity': 'First activity',
      'incidents.searchPlaceholder': 'Search title or assignee',
      'incidents.searchLabel': 'Search incidents',
      'incidents.stateAny': 'Any state',
      'incidents.sortBy': 'Sort by {column}',
      'incidents.noMatch': 'No incident matches the filter.',
      'incidents.emptyPage': 'No incidents on this page.',
      'incidents.showing.one': 'Showing {from}\u2013{to} of {n} incident',
      'incidents.showing.many': 'Showing {from}\u2013{to} of {n} incidents'
    },
    zh: {
      'incidents.title': '事件', 'incidents.loading': '正在加载事件',
      'incidents.lastActivity': '最近活动', 'incidents.incident': '事件', 'incidents.severity': '严重程度',
      'incidents.state': '状态', 'incidents.hosts': '终端', 'incidents.events': '记录数', 'incidents.assignee': '负责人',
      'incidents.intro': '告警一到达就归并为事件：同一终端一小时内的告警归为一起，' +
        '一天内共用同一可执行文件、同一文件或同一人账号的多台终端也归为一起。服务器自己发现的情况同样会并入：' +
        '被拒绝的接入和更新包、溢出的缓存队列、发现的已被利用漏洞、落后的特征库。',
      'incidents.loadError': '无法加载事件：{message}',
      'incidents.loadFailed': '无法加载事件。',
      'incidents.empty': '暂无事件。终端的告警到达后会在这里归并为事件。',
      'incidents.alertFallback': '告警 {id}',
      'incidents.incidentTitle': '事件 {id}', 'incidents.back': '全部事件',
      'incidents.reopen': '重新打开', 'incidents.to.acknowledged': '确认',
      'incidents.to.contained': '标记为已控制', 'incidents.to.resolved': '标记为已解决',
      'incidents.stateChanged': '事件状态已改为“{state}”。',
      'incidents.assign': '指派\u2026', 'incidents.assignPrompt': '指派给哪个控制台账号？（留空：不指派）',
      'incidents.assigned': '负责人已更改。',
      'incidents.received': '接收时间', 'incidents.host': '终端', 'incidents.alert': '告警',
      'incidents.nothingYet': '暂无记录。',
      'incidents.pid': 'PID', 'incidents.exe': '可执行文件', 'incidents.user': '用户', 'incidents.startedBy': '父进程链',
      'incidents.noProcess': '未涉及进程。',
      'incidents.file': '文件', 'incidents.hashBefore': '变更前 SHA-256', 'incidents.noFile': '未涉及文件。',
      'incidents.addNote': '添加备注', 'incidents.noteAdded': '备注已添加。',
      'incidents.label.state': '状态：', 'incidents.label.severity': '严重程度：',
      'incidents.label.assignee': '负责人：', 'incidents.label.hosts': '终端：',
      'incidents.adminOnly': '只有管理员可以更改事件。',
      'incidents.timeline': '时间线',
      'incidents.unlisted': '另有 {n} 条同类信号已计入，但未列出。',
      'incidents.processes': '进程', 'incidents.files': '文件', 'incidents.keys': '告警归并依据',
      'incidents.notes': '备注',
      'incidents.loadOneError': '无法加载事件：{message}',
      'incidents.is.new': '新建', 'incidents.is.acknowledged': '已确认',
      'incidents.is.contained': '已控制', 'incidents.is.resolved': '已解决',
      'incidents.sev.low': '低', 'incidents.sev.medium': '中', 'incidents.sev.high': '高',
      'incidents.sev.critical': '严重',
      'incidents.firstActivity': '首次活动',
      'incidents.searchPlaceholder': '搜索标题或负责人',
      'incidents.searchLabel': '搜索事件',
      'incidents.stateAny': '全部状态',
      'incidents.sortBy': '按{column}排序',
      'incidents.noMatch': '没有符合筛选条件的事件。',
      'incidents.emptyPage': '本页没有事件。',
      'incidents.showing.one': '第 {from}–{to} 个，共 {n} 个事件',
      'incidents.showing.many': '第 {from}–{to} 个，共 {n} 个事件'
    }
  });

  var NEXT_STATES = {
    'new': ['acknowledged', 'contained', 'resolved'],
    acknowledged: ['contained', 'resolved'],
    contained: ['resolved'],
    resolved: ['acknowledged']
  };

  /* A state or severity code (kind 'is' or 'sev') in the user's language; an unknown
     code as it came. */
  function codeText(kind, code) {
    var key = 'incidents.' + kind + '.' + code;
    return Object.prototype.hasOwnProperty.call(ww.i18n.words.en, key) ? ww.t(key) : code;
  }

  /* orDash of a code in the user's language. */
  function codeOrDash(kind, code) {
    return orDash(code === null || code === undefined || code === '' ? code : codeText(kind, String(code)));
  }

  var PAGE_SIZE = 50;
  var STATES = ['', 'new', 'acknowledged', 'contained', 'resolved'];
  /* The list's state in the URL (lib.js listFromUrl). */
  var LIST = {
    base: '#/incidents',
    filters: { state: STATES },
    sorts: ['last_at', 'first_at', 'title'], sort: 'last_at', order: 'desc'
  };

  function showIncidents(query) {
    var view = beginView('incidents');
    var list = ww.listFromUrl(query, LIST);
    var loading = false;
    setTitle(ww.t('incidents.title'));

    var filter = el('input', {
      id: 'incidents-search', type: 'search', placeholder: ww.t('incidents.searchPlaceholder'),
      'aria-label': ww.t('incidents.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var stateSelect = el('select', { id: 'incidents-state', 'aria-label': ww.t('incidents.state') });
    STATES.forEach(function (code) {
      var option = el('option', { value: code }, code ? codeText('is', code) : ww.t('incidents.stateAny'));
      option.selected = list.state === code;
      stateSelect.appendChild(option);
    });
    var shownInfo = el('span', { className: 'info', id: 'incidents-shown' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'incidents-prev' }, ww.t('common.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'incidents-next' }, ww.t('common.next'));
    /* `first`: the order a first click on the column asks for (dates newest first). */
    var columns = [
      { label: '#', className: 'num shrink' },
      { label: ww.t('incidents.lastActivity'), className: 'shrink', sort: 'last_at', first: 'desc' },
      { label: ww.t('incidents.firstActivity'), className: 'shrink', sort: 'first_at', first: 'desc' },
      { label: ww.t('incidents.incident'), sort: 'title', first: 'asc' },
      { label: ww.t('incidents.severity'), className: 'shrink' },
      { label: ww.t('incidents.state'), className: 'shrink' },
      { label: ww.t('incidents.hosts') },
      { label: ww.t('incidents.events'), className: 'num shrink' },
      { label: ww.t('incidents.assignee'), className: 'shrink' }
    ];
    var t = dataTable('incidents-table', columns.map(function (c) {
      var arrow = list.sort === c.sort ? (list.order === 'desc' ? ' \u25be' : ' \u25b4') : '';
      return { label: c.label + arrow, className: c.className, title: c.sort ? ww.t('incidents.sortBy', { column: c.label.toLowerCase() }) : null };
    }));
    /* A sortable column's header sorts by it; a second click turns the order round. */
    Array.prototype.forEach.call(t.table.querySelectorAll('thead th'), function (th, i) {
      var key = columns[i].sort;
      if (!key) {
        return;
      }
      th.className = (th.className ? th.className + ' ' : '') + 'sortable';
      th.setAttribute('data-sort', key);
      if (list.sort === key) {
        th.setAttribute('aria-sort', list.order === 'desc' ? 'descending' : 'ascending');
      }
      th.addEventListener('click', function () {
        list.order = list.sort === key ? (list.order === 'asc' ? 'desc' : 'asc') : columns[i].first;
        list.sort = key;
        list.page = 1;
        rememberAndReload(true);
      }, false);
    });
    loadingRow(t, ww.t('incidents.loading'));
    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('incidents.title'))]),
      el('p', { className: 'muted' }, ww.t('incidents.intro')),
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, filter),
        stateSelect,
        shownInfo,
        el('span', { className: 'spacer' }),
        prev, next
      ]),
      t.table
    ]);

    /* The URL holds the list's state, so a filtered list can be bookmarked and shared;
       replaced in place, so that typing does not fill the history or reload the view. */
    function rememberAndReload(rebuild) {
      ww.keepListInUrl(list, LIST, rebuild, load);
    }

    function incidentRow(inc) {
      return el('tr', { className: 'incident-row', 'data-id': String(inc.id) }, [
        el('td', { className: 'num shrink' }, el('a', { href: '#/incidents/' + encodeURIComponent(String(inc.id)) }, String(inc.id))),
        dateCell(inc.last_at),
        dateCell(inc.first_at),
        el('td', { className: 'wrap' }, el('a', { href: '#/incidents/' + encodeURIComponent(String(inc.id)) }, str(inc.title))),
        el('td', { className: 'shrink' }, codeOrDash('sev', inc.severity)),
        el('td', { className: 'shrink incident-state' }, codeOrDash('is', inc.state)),
        el('td', { className: 'wrap incident-hosts' }, isArray(inc.hosts) ? inc.hosts.join(', ') : ''),
        el('td', { className: 'num shrink' }, formatCount((inc.alerts || 0) + (inc.signals || 0))),
        el('td', { className: 'shrink' }, orDash(inc.assignee))
      ]);
    }

    function render(data) {
      var incidents = isArray(data.incidents) ? data.incidents : [];
      var total = typeof data.total === 'number' ? data.total : incidents.length;
      var filtered = list.q || list.state;
      var frag = document.createDocumentFragment();
      incidents.forEach(function (inc) { frag.appendChild(incidentRow(inc || {})); });
      clear(t.tbody);
      if (incidents.length) {
        t.tbody.appendChild(frag);
      } else {
        messageRow(t.tbody, t.columns, total ? ww.t('incidents.emptyPage') :
          (filtered ? ww.t('incidents.noMatch') : ww.t('incidents.empty')));
      }
      ww.showPage(list, PAGE_SIZE, incidents.length, total, shownInfo, prev, next, 'incidents.showing');
    }

    /* The request for the page the list is on. */
    function listPath() {
      return '/api/incidents' + encodeQuery({
        state: list.state, q: list.q, sort: list.sort, order: list.order,
        limit: PAGE_SIZE, offset: (list.page - 1) * PAGE_SIZE
      });
    }

    /* One request at a time; when the list changed while one was on its way, its answer
       is dropped and the page the list is on now asked for. */
    function load() {
      var path;
      if (loading) {
        return;
      }
      loading = true;
      path = listPath();
      api('GET', path, null, function (err, data) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (path !== listPath()) {
          load();
          return;
        }
        if (err) {
          showError(ww.t('incidents.loadError', { message: err.message }));
          messageRow(t.tbody, t.columns, ww.t('incidents.loadFailed'), 'placeholder-row');
          setText(shownInfo, '');
          return;
        }
        clearError();
        render(data || {});
      });
    }

    ww.listInput(view, filter, list, 'q', function () { rememberAndReload(false); });
    stateSelect.addEventListener('change', function () {
      list.state = STATES.indexOf(stateSelect.value) > 0 ? stateSelect.value : '';
      list.page = 1;
      rememberAndReload(false);
    }, false);
    ww.pageButtons(list, prev, next, function () { rememberAndReload(false); });

    prev.disabled = list.page <= 1;
    next.disabled = true;
    load();
    view.every(REFRESH_MS, load);
  }

  function alertRow(a) {
    return el('tr', { className: 'incident-alert', 'data-alert': String(a.id) }, [
      dateCell(a.received_at),
      el('td', { className: 'shrink' }, str(a.hostname)),
      el('td', { className: 'shrink' }, codeOrDash('sev', a.severity)),
      el('td', { className: 'wrap' }, el('a', { href: '#/alerts/' + encodeURIComponent(String(a.id)) },
        str(a.title) || ww.t('incidents.alertFallback', { id: a.id })))
    ]);
  }

  /** A signal the server recorded itself: its kind and sentence, no link. */
  function signalRow(sig) {
    return el('tr', { className: 'incident-signal', 'data-kind': str(sig.kind) }, [
      dateCell(sig.at),
      el('td', { className: 'shrink' }, orDash(sig.hostname)),
      el('td', { className: 'shrink' }, codeOrDash('sev', sig.severity)),
      el('td', { className: 'wrap' }, [el('span', { className: 'muted' }, str(sig.kind) + ': '), str(sig.title)])
    ]);
  }

  function showIncident(id) {
    var view = beginView('incident');
    setTitle(ww.t('incidents.incidentTitle', { id: id }));
    var isAdmin = ww.may('act');
    var body = el('div', { id: 'incident-view' });
    var note = el('div', { id: 'incident-status', className: 'form-note', role: 'status', hidden: true });
    append(byId('app'), [backLink('#/incidents', ww.t('incidents.back')), note, body]);

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
              inc.state === 'resolved' ? ww.t('incidents.reopen') : ww.t('incidents.to.' + to));
            b.addEventListener('click', function () {
              change('/state', { state: to }, ww.t('incidents.stateChanged', { state: codeText('is', to) }));
            }, false);
            buttons.push(b);
          }(next[i]));
        }
        var assign = el('button', { type: 'button', className: 'btn', id: 'incident-assign' }, ww.t('incidents.assign'));
        assign.addEventListener('click', function () {
          var who = window.prompt(ww.t('incidents.assignPrompt'), str(inc.assignee));
          if (who === null) {
            return;
          }
          change('/assign', { assignee: who.trim() || null }, ww.t('incidents.assigned'));
        }, false);
        buttons.push(assign);
      }
      var timeline = dataTable('incident-timeline', [
        { label: ww.t('incidents.received'), className: 'shrink' },
        { label: ww.t('incidents.host'), className: 'shrink' },
        { label: ww.t('incidents.severity'), className: 'shrink' },
        { label: ww.t('incidents.alert') }
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
      fillTable(timeline, frag, entries.length, ww.t('incidents.nothingYet'));
      var unlisted = (inc.signals || 0) - signals.length;
      var procs = dataTable('incident-processes', [
        { label: ww.t('incidents.host'), className: 'shrink' },
        { label: ww.t('incidents.pid'), className: 'num shrink' },
        { label: ww.t('incidents.exe') },
        { label: ww.t('incidents.user'), className: 'shrink' },
        { label: ww.t('incidents.startedBy') }
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
      fillTable(procs, pfrag, ps.length, ww.t('incidents.noProcess'));
      var filesTable = dataTable('incident-files', [
        { label: ww.t('incidents.host'), className: 'shrink' },
        { label: ww.t('incidents.file') },
        { label: ww.t('incidents.hashBefore'), className: 'shrink' }
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
      fillTable(filesTable, ffrag, fs.length, ww.t('incidents.noFile'));
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
      var noteButton = el('button', { type: 'button', className: 'btn btn-primary', id: 'incident-note-add' }, ww.t('incidents.addNote'));
      noteButton.addEventListener('click', function () {
        change('/notes', { text: noteText.value }, ww.t('incidents.noteAdded'));
      }, false);
      append(body, [
        el('div', { className: 'page-head' }, [el('h1', { id: 'incident-title' }, str(inc.title))]),
        el('p', null, [
          ww.t('incidents.label.state'), el('strong', { id: 'incident-state' }, codeText('is', str(inc.state))),
          ' \u00b7 ' + ww.t('incidents.label.severity'), codeText('sev', str(inc.severity)),
          ' \u00b7 ' + ww.t('incidents.label.assignee'), el('span', { id: 'incident-assignee' }, orDash(inc.assignee)),
          ' \u00b7 ' + ww.t('incidents.label.hosts'), el('span', { id: 'incident-hosts' }, isArray(inc.hosts) ? inc.hosts.join(', ') : '')
        ]),
        isAdmin ? el('div', { className: 'toolbar', id: 'incident-actions' }, buttons) :
          el('p', { className: 'muted' }, ww.t('incidents.adminOnly')),
        el('h2', { className: 'panel-heading' }, ww.t('incidents.timeline')),
        el('div', { className: 'table-wrap' }, timeline.table),
        unlisted > 0 ? el('p', { className: 'muted', id: 'incident-unlisted' },
          ww.t('incidents.unlisted', { n: formatCount(unlisted) })) : null,
        el('h2', { className: 'panel-heading' }, ww.t('incidents.processes')),
        el('div', { className: 'table-wrap' }, procs.table),
        el('h2', { className: 'panel-heading' }, ww.t('incidents.files')),
        el('div', { className: 'table-wrap' }, filesTable.table),
        el('h2', { className: 'panel-heading' }, ww.t('incidents.keys')),
        keys,
        el('h2', { className: 'panel-heading' }, ww.t('incidents.notes')),
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
          showError(ww.t('incidents.loadOneError', { message: err.message }));
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
