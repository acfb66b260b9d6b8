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
  var formatCount = ww.formatCount, shortDate = ww.shortDate;
  var fullDate = ww.fullDate, relTime = ww.relTime, dateAndAgo = ww.dateAndAgo;
  var api = ww.api, encodeQuery = ww.encodeQuery, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var summaryCard = ww.summaryCard, backLink = ww.backLink, noticeWithLink = ww.noticeWithLink;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, openRowOnClick = ww.openRowOnClick;
  var ELLIPSIS = ww.ELLIPSIS, DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  ww.i18n.add({
    en: {
      'alerts.title': 'Alerts', 'alerts.loading': 'Loading alerts',
      'alerts.newest': '\u00ab Newest', 'alerts.newer': '\u2039 Newer', 'alerts.older': 'Older \u203a',
      'alerts.received': 'Received', 'alerts.receivedTitle': 'When the server received the alert',
      'alerts.host': 'Host', 'alerts.level': 'Level', 'alerts.action': 'Action', 'alerts.process': 'Process',
      'alerts.user': 'User', 'alerts.files': 'Files',
      'alerts.card.last24h': 'Last 24 h', 'alerts.card.urgent': 'Suspended or killed, 24 h', 'alerts.card.total': 'All alerts',
      'alerts.legend': 'Newest first. Highlighted: alerts where a process was suspended or killed. ' +
        'Times are the server\'s; click an alert for the process, its parents and every file it touched.',
      'alerts.fileCount.one': '{n} file', 'alerts.fileCount.many': '{n} files', 'alerts.filesFirst': ', first {n}:',
      'alerts.empty': 'No alerts yet. Alerts from the terminals\u2019 ransomware guard appear here as soon as they arrive.',
      'alerts.noOlder': 'No older alerts.',
      'alerts.shownNewest.one': 'The newest {n} alert', 'alerts.shownNewest.many': 'The newest {n} alerts',
      'alerts.shownOlder.one': '{n} alert, older page', 'alerts.shownOlder.many': '{n} alerts, older page',
      'alerts.refreshed': 'Refreshed every {n} s', 'alerts.notRefreshed': 'Not refreshed while looking at older alerts',
      'alerts.updated': 'Updated {time}',
      'alerts.loadError': 'Could not load the alerts: {message}',
      'alerts.loadFailed': 'The alerts could not be loaded. They are tried again every {n} s.',
      'alerts.severityTitle': 'Severity: {severity}', 'alerts.refused': 'refused: {list}',
      'alerts.level.suspicious': 'suspicious', 'alerts.level.suspend': 'suspend', 'alerts.level.kill': 'kill',
      'alerts.level.low': 'low', 'alerts.level.medium': 'medium', 'alerts.level.high': 'high',
      'alerts.level.critical': 'critical', 'alerts.level.alert': 'alert',
      'alerts.do.reported': 'reported', 'alerts.do.suspended': 'suspended', 'alerts.do.killed': 'killed',
      'alerts.do.refused': 'refused', 'alerts.do.gone': 'gone',
      'alerts.doTitle.reported': 'Only reported: no process was stopped',
      'alerts.doTitle.suspended': 'The process tree was stopped (SIGSTOP) and is waiting for a decision',
      'alerts.doTitle.killed': 'The process tree was killed',
      'alerts.doTitle.refused': 'The guard would not signal this process (protected or out of its scope)',
      'alerts.doTitle.gone': 'The process had already exited',
      'alerts.smb.user': 'user {name}', 'alerts.smb.share': 'share {list}', 'alerts.smb.shares': 'shares {list}',
      'alerts.smb.client': 'SMB client {address}', 'alerts.smb.clientWho': 'SMB client {address} ({who})',
      'alerts.sampled': 'sampled',
      'alerts.sampledTitle': 'Hash of sampled blocks of a large file: shows that it changed, but cannot be compared with a backup',
      'alerts.alertTitle': 'Alert {id}', 'alerts.alertOnHost': 'Alert {id} on {host}', 'alerts.back': 'All alerts',
      'alerts.loadingOne': 'Loading alert', 'alerts.notQueued': 'Not queued: {message}',
      'alerts.noProcess': 'The alert names no process.',
      'alerts.pid': 'PID', 'alerts.exe': 'Executable', 'alerts.exeSha256': 'Executable SHA-256', 'alerts.ppid': 'Parent PID',
      'alerts.cmdline': 'Command line', 'alerts.started': 'Started', 'alerts.cwd': 'Working directory',
      'alerts.smb.address': 'Client address', 'alerts.smb.loggedInAs': 'Logged in as', 'alerts.smb.machine': 'Machine name',
      'alerts.smb.sharesLabel': 'Shares', 'alerts.smb.serverPort': 'Server port', 'alerts.smb.dialect': 'Dialect',
      'alerts.smb.block': 'Block this client on {host}', 'alerts.smb.asking': 'Asking the file server',
      'alerts.smb.queued': 'Queued as command {id}: the file server refuses {address} on its SMB port when it next polls. ' +
        'Unblock it from the host page once the machine is clean.',
      'alerts.smb.note': 'The client can connect again and go on unless it is blocked: the block closes the file server\u2019s SMB port to this address only.',
      'alerts.generation': 'Generation',
      'alerts.noParents': 'No parents reported (the process was started by init or the chain was not known).',
      'alerts.parent': 'parent', 'alerts.grandparent': 'grandparent', 'alerts.up': '{n} up',
      'alerts.path': 'Path', 'alerts.changes': 'Changes', 'alerts.pids': 'PIDs',
      'alerts.hashBefore': 'SHA-256 before', 'alerts.hashBeforeTitle': 'Content hash when the guard last saw the file before the change',
      'alerts.hashAfter': 'SHA-256 after', 'alerts.hashAfterTitle': 'Content hash when the alert was raised (none: the file is gone)',
      'alerts.noFiles': 'The alert lists no files.',
      'alerts.filesOmitted.one': '{n} more file was touched but left out of the alert by the terminal.',
      'alerts.filesOmitted.many': '{n} more files were touched but left out of the alert by the terminal.',
      'alerts.problems': 'Parts of this alert could not be read and are not shown:',
      'alerts.raised': 'Raised on the terminal', 'alerts.severity': 'Severity', 'alerts.score': 'Score',
      'alerts.detector': 'Detector', 'alerts.firstChange': 'First change', 'alerts.stopped': 'Process stopped',
      'alerts.filesTouched': 'Files touched', 'alerts.alert': 'Alert', 'alerts.idText': '#{id} (event {seq} of {host})',
      'alerts.why': 'Why', 'alerts.smbSection': 'File-server client', 'alerts.parentChain': 'Parent chain',
      'alerts.filesSection': 'Files ({n})', 'alerts.recover': 'Recover',
      'alerts.restore': 'Restore these files from backup', 'alerts.restoreAsking': 'Asking the terminal',
      'alerts.restoreQueued.one': 'Queued as command {id} for {n} file: the terminal restores them when it next polls ' +
        '(see its commands on the host page). Damaged files are kept beside the restored ones.',
      'alerts.restoreQueued.many': 'Queued as command {id} for {n} files: the terminal restores them when it next polls ' +
        '(see its commands on the host page). Damaged files are kept beside the restored ones.',
      'alerts.restoreNote': 'Puts back every file listed above from the newest backup taken before the first change, each checked against its hash from before.',
      'alerts.loadOneError': 'Could not load the alert: {message}',
      'alerts.noSuchAlert': 'There is no alert {id} on this server.', 'alerts.loadOneFailed': 'The alert could not be loaded.',
      'alerts.backToList': 'Back to the alerts', 'alerts.noAlertInAnswer': 'The server sent no alert in its answer.'
    },
    zh: {
      'alerts.title': '告警', 'alerts.loading': '正在加载告警',
      'alerts.newest': '\u00ab 最新', 'alerts.newer': '\u2039 较新', 'alerts.older': '较早 \u203a',
      'alerts.received': '接收时间', 'alerts.receivedTitle': '服务器收到告警的时间',
      'alerts.host': '终端', 'alerts.level': '级别', 'alerts.action': '处置', 'alerts.process': '进程',
      'alerts.user': '用户', 'alerts.files': '文件',
      'alerts.card.last24h': '近 24 小时', 'alerts.card.urgent': '24 小时内挂起或终止', 'alerts.card.total': '全部告警',
      'alerts.legend': '最新的在前。高亮显示的是有进程被挂起或终止的告警。' +
        '时间以服务器为准；点击告警可查看进程、其父进程及其改动过的所有文件。',
      'alerts.fileCount.one': '{n} 个文件', 'alerts.fileCount.many': '{n} 个文件', 'alerts.filesFirst': '，前 {n} 个：',
      'alerts.empty': '暂无告警。终端勒索防护发出的告警一到达就会显示在这里。',
      'alerts.noOlder': '没有更早的告警。',
      'alerts.shownNewest.one': '最新 {n} 条告警', 'alerts.shownNewest.many': '最新 {n} 条告警',
      'alerts.shownOlder.one': '{n} 条告警（较早的一页）', 'alerts.shownOlder.many': '{n} 条告警（较早的一页）',
      'alerts.refreshed': '每 {n} 秒刷新一次', 'alerts.notRefreshed': '查看较早的告警时不自动刷新',
      'alerts.updated': '更新于 {time}',
      'alerts.loadError': '无法加载告警：{message}',
      'alerts.loadFailed': '无法加载告警，每 {n} 秒重试一次。',
      'alerts.severityTitle': '严重程度：{severity}', 'alerts.refused': '未处置：{list}',
      'alerts.level.suspicious': '可疑', 'alerts.level.suspend': '挂起', 'alerts.level.kill': '终止',
      'alerts.level.low': '低', 'alerts.level.medium': '中', 'alerts.level.high': '高',
      'alerts.level.critical': '严重', 'alerts.level.alert': '告警',
      'alerts.do.reported': '仅上报', 'alerts.do.suspended': '已挂起', 'alerts.do.killed': '已终止',
      'alerts.do.refused': '未处置', 'alerts.do.gone': '已退出',
      'alerts.doTitle.reported': '仅上报：没有停止任何进程',
      'alerts.doTitle.suspended': '进程树已暂停（SIGSTOP），等待处理决定',
      'alerts.doTitle.killed': '进程树已被终止',
      'alerts.doTitle.refused': '勒索防护不向此进程发信号（受保护或不在其范围内）',
      'alerts.doTitle.gone': '进程已经退出',
      'alerts.smb.user': '用户 {name}', 'alerts.smb.share': '共享 {list}', 'alerts.smb.shares': '共享 {list}',
      'alerts.smb.client': 'SMB 客户端 {address}', 'alerts.smb.clientWho': 'SMB 客户端 {address}（{who}）',
      'alerts.sampled': '抽样',
      'alerts.sampledTitle': '大文件抽样数据块的哈希：能看出文件已改变，但无法与备份比对',
      'alerts.alertTitle': '告警 {id}', 'alerts.alertOnHost': '{host} 上的告警 {id}', 'alerts.back': '全部告警',
      'alerts.loadingOne': '正在加载告警', 'alerts.notQueued': '未加入队列：{message}',
      'alerts.noProcess': '告警没有指明进程。',
      'alerts.pid': 'PID', 'alerts.exe': '可执行文件', 'alerts.exeSha256': '可执行文件 SHA-256', 'alerts.ppid': '父进程 PID',
      'alerts.cmdline': '命令行', 'alerts.started': '启动时间', 'alerts.cwd': '工作目录',
      'alerts.smb.address': '客户端地址', 'alerts.smb.loggedInAs': '登录用户', 'alerts.smb.machine': '计算机名',
      'alerts.smb.sharesLabel': '共享', 'alerts.smb.serverPort': '服务器端口', 'alerts.smb.dialect': '协议版本',
      'alerts.smb.block': '在 {host} 上封禁此客户端', 'alerts.smb.asking': '正在请求文件服务器',
      'alerts.smb.queued': '已排队，命令 {id}：文件服务器下次轮询时将在其 SMB 端口拒绝 {address}。' +
        '该机器清理干净后，可在终端页面解除封禁。',
      'alerts.smb.note': '不封禁的话，该客户端可以重新连接并继续操作；封禁只对这个地址关闭文件服务器的 SMB 端口。',
      'alerts.generation': '代次',
      'alerts.noParents': '没有上报父进程（进程由 init 启动，或进程链未知）。',
      'alerts.parent': '父进程', 'alerts.grandparent': '祖父进程', 'alerts.up': '上溯 {n} 代',
      'alerts.path': '路径', 'alerts.changes': '变更', 'alerts.pids': 'PID',
      'alerts.hashBefore': '变更前 SHA-256', 'alerts.hashBeforeTitle': '变更前勒索防护最后一次看到该文件时的内容哈希',
      'alerts.hashAfter': '变更后 SHA-256', 'alerts.hashAfterTitle': '产生告警时的内容哈希（无：文件已不存在）',
      'alerts.noFiles': '告警没有列出文件。',
      'alerts.filesOmitted.one': '另有 {n} 个文件被改动，但终端没有把它列入告警。',
      'alerts.filesOmitted.many': '另有 {n} 个文件被改动，但终端没有把它们列入告警。',
      'alerts.problems': '此告警有部分内容无法读取，未显示：',
      'alerts.raised': '终端上产生时间', 'alerts.severity': '严重程度', 'alerts.score': '评分',
      'alerts.detector': '检测器', 'alerts.firstChange': '首次变更', 'alerts.stopped': '进程停止时间',
      'alerts.filesTouched': '改动的文件', 'alerts.alert': '告警', 'alerts.idText': '#{id}（{host} 的第 {seq} 个事件）',
      'alerts.why': '原因', 'alerts.smbSection': '文件服务器客户端', 'alerts.parentChain': '父进程链',
      'alerts.filesSection': '文件（{n}）', 'alerts.recover': '恢复',
      'alerts.restore': '从备份恢复这些文件', 'alerts.restoreAsking': '正在请求终端',
      'alerts.restoreQueued.one': '已排队，命令 {id}，共 {n} 个文件：终端下次轮询时恢复这些文件（命令可在终端页面查看）。' +
        '受损的文件保留在恢复出的文件旁边。',
      'alerts.restoreQueued.many': '已排队，命令 {id}，共 {n} 个文件：终端下次轮询时恢复这些文件（命令可在终端页面查看）。' +
        '受损的文件保留在恢复出的文件旁边。',
      'alerts.restoreNote': '从首次变更前最新的备份中恢复上面列出的每个文件，并逐一与变更前的哈希核对。',
      'alerts.loadOneError': '无法加载告警：{message}',
      'alerts.noSuchAlert': '此服务器上没有告警 {id}。', 'alerts.loadOneFailed': '无法加载该告警。',
      'alerts.backToList': '返回告警列表', 'alerts.noAlertInAnswer': '服务器的应答中没有告警。'
    }
  });

  var ALERT_PAGE_SIZE = 100;
  var ALERT_LIST_PATHS = 3;      // file paths shown per alert in the list
  var ALERT_CMDLINE_CHARS = 160; // command line shown in the list, before an ellipsis

  var KNOWN_LEVELS = { suspicious: true, suspend: true, kill: true, low: true, medium: true, high: true, critical: true };
  /* The actions the guard reports; each has its words alerts.do.* and alerts.doTitle.*. */
  var KNOWN_ACTIONS = { reported: true, suspended: true, killed: true, refused: true, gone: true };

  /* "1 file", "3 files": the key oneKey or manyKey with n as the language writes it. */
  function countText(n, oneKey, manyKey) {
    return ww.t(n === 1 ? oneKey : manyKey, { n: formatCount(n) });
  }

  /* A level or severity code in the user's language; an unknown code as it came. */
  function levelText(code) {
    return Object.prototype.hasOwnProperty.call(ww.i18n.words.en, 'alerts.level.' + code) ? ww.t('alerts.level.' + code) : code;
  }

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
      title: a.severity ? ww.t('alerts.severityTitle', { severity: levelText(String(a.severity)) }) : null
    }, levelText(level));
  }

  function actionNode(a, withPids) {
    var out = [], i, refused = isArray(a.refused) ? a.refused : [], r, pids = [];
    var action = a.action ? String(a.action) : '';
    var known = KNOWN_ACTIONS[action] === true;
    out.push(action ? el('span', {
      className: 'action action-' + (known ? action : 'other'),
      title: known ? ww.t('alerts.doTitle.' + action) : null
    }, known ? ww.t('alerts.do.' + action) : action) : orDash(''));
    if (withPids && isArray(a.action_pids) && a.action_pids.length) {
      out.push(el('span', { className: 'muted' }, ' pid ' + a.action_pids.join(', ')));
    }
    for (i = 0; i < refused.length; i++) {
      r = refused[i] || {};
      pids.push('pid ' + str(r.pid) + (r.reason ? ' (' + String(r.reason) + ')' : ''));
    }
    if (pids.length) {
      out.push(el('div', { className: 'refused' }, ww.t('alerts.refused', { list: pids.join(', ') })));
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
      who.push(ww.t('alerts.smb.user', { name: String(c.user) }));
    }
    if (c.machine && c.machine !== c.address) {
      who.push(String(c.machine));
    }
    if (isArray(c.shares) && c.shares.length) {
      who.push(ww.t(c.shares.length === 1 ? 'alerts.smb.share' : 'alerts.smb.shares', { list: c.shares.join(', ') }));
    }
    return who.length ? ww.t('alerts.smb.clientWho', { address: str(c.address), who: who.join(ww.t('common.listSep')) }) :
      ww.t('alerts.smb.client', { address: str(c.address) });
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
    setTitle(ww.t('alerts.title'));

    var shownInfo = el('span', { className: 'info', id: 'alerts-shown' });
    var updated = el('span', { className: 'info', id: 'alerts-updated' });
    var newest = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newest', disabled: true }, ww.t('alerts.newest'));
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-newer', disabled: true }, ww.t('alerts.newer'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'alerts-older', disabled: true }, ww.t('alerts.older'));
    var t = dataTable('alerts-table', [
      { label: ww.t('alerts.received'), className: 'shrink', title: ww.t('alerts.receivedTitle') },
      { label: ww.t('alerts.host') },
      { label: ww.t('alerts.level'), className: 'shrink' },
      { label: ww.t('alerts.action'), className: 'shrink' },
      { label: ww.t('alerts.process') },
      { label: ww.t('alerts.user'), className: 'shrink' },
      { label: ww.t('alerts.files') }
    ]);
    loadingRow(t, ww.t('alerts.loading'));

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('alerts.title'))]),
      el('div', { className: 'summary', id: 'alerts-summary' }, [
        summaryCard('alerts-last-24h', ww.t('alerts.card.last24h'), 'alerts'),
        summaryCard('alerts-urgent', ww.t('alerts.card.urgent'), 'urgent-count'),
        summaryCard('alerts-total', ww.t('alerts.card.total'), 'total')
      ]),
      el('div', { className: 'toolbar' }, [
        shownInfo,
        el('span', { className: 'spacer' }),
        updated,
        el('span', { className: 'pager' }, [newest, prev, next])
      ]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, ww.t('alerts.legend'))
    ]);

    function filesNode(a) {
      var paths = isArray(a.file_paths) ? a.file_paths : [];
      var total = typeof a.files_total === 'number' ? a.files_total : paths.length;
      var list = el('div', { className: 'paths' }), i;
      for (i = 0; i < paths.length && i < ALERT_LIST_PATHS; i++) {
        list.appendChild(el('div', { className: 'mono path' }, String(paths[i])));
      }
      return [el('span', { className: 'files-count' }, countText(total, 'alerts.fileCount.one', 'alerts.fileCount.many')),
        total > Math.min(paths.length, ALERT_LIST_PATHS) && paths.length ?
          el('span', { className: 'muted' }, ww.t('alerts.filesFirst', { n: formatCount(Math.min(paths.length, ALERT_LIST_PATHS)) })) : null,
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
      fillTable(t, frag, list.length, before === null ? ww.t('alerts.empty') : ww.t('alerts.noOlder'));
      nextBefore = typeof data.next_before === 'number' ? data.next_before : null;
      next.disabled = nextBefore === null;
      prev.disabled = newer.length === 0;
      newest.disabled = before === null;
      setText(shownInfo, !list.length ? '' : (before === null ?
        countText(list.length, 'alerts.shownNewest.one', 'alerts.shownNewest.many') :
        countText(list.length, 'alerts.shownOlder.one', 'alerts.shownOlder.many')));
      updated.setAttribute('title', before === null ? ww.t('alerts.refreshed', { n: REFRESH_MS / 1000 }) : ww.t('alerts.notRefreshed'));
      setText(updated, ww.t('alerts.updated', { time: shortDate(new Date().getTime()).substring(11) }));
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
          showError(ww.t('alerts.loadError', { message: err.message }));
          if (!loaded) {
            messageRow(t.tbody, t.columns, ww.t('alerts.loadFailed', { n: REFRESH_MS / 1000 }), 'placeholder-row');
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
      h.sampled ? el('span', { className: 'flag', title: ww.t('alerts.sampledTitle') }, ww.t('alerts.sampled')) : null];
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
    setTitle(ww.t('alerts.alertTitle', { id: alertId }));

    var title = el('h1', { className: 'alert-title' }, ww.t('alerts.alertTitle', { id: alertId }));
    var badges = el('span', { className: 'alert-badges' });
    var body = el('div', { id: 'alert-body' });
    append(app, [
      backLink('#/alerts', ww.t('alerts.back')),
      el('div', { className: 'page-head' }, [title, badges]),
      body
    ]);
    append(body, el('p', { className: 'placeholder' }, ww.t('alerts.loadingOne') + ELLIPSIS));

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
            ww.setText(status, ww.t('alerts.notQueued', { message: err.message }));
            return;
          }
          ww.setText(status, queued((data && data.command) || {}));
        });
      });
    }

    function processFacts(p) {
      if (!p) {
        return el('p', { className: 'placeholder' }, ww.t('alerts.noProcess'));
      }
      return el('dl', { className: 'facts', id: 'alert-process' }, [
        fact('pid', ww.t('alerts.pid'), orDash(p.pid)),
        fact('exe', ww.t('alerts.exe'), p.exe ? el('span', { className: 'mono' }, String(p.exe)) : orDash(''), true),
        fact('user', ww.t('alerts.user'), orDash(userText(p))),
        fact('sha256', ww.t('alerts.exeSha256'), p.exe_sha256 ? el('span', { className: 'mono hash' }, String(p.exe_sha256)) : orDash(''), true),
        fact('ppid', ww.t('alerts.ppid'), orDash(p.ppid)),
        fact('cmdline', ww.t('alerts.cmdline'), isArray(p.cmdline) && p.cmdline.length ?
          el('span', { className: 'mono cmdline' }, cmdlineText(p.cmdline)) : orDash(''), true),
        fact('started', ww.t('alerts.started'), dateAndAgo(p.start_time_ms)),
        fact('cwd', ww.t('alerts.cwd'), p.cwd ? el('span', { className: 'mono' }, String(p.cwd)) : orDash(''), true)
      ]);
    }

    /* The client behind a file server's smbd, and for admins the block that keeps it
       from simply connecting again. */
    function smbClientFacts(a) {
      var c = a.smb_client || {};
      var status, button, args;
      var facts = el('dl', { className: 'facts', id: 'alert-smb-client' }, [
        fact('smb-address', ww.t('alerts.smb.address'), el('span', { className: 'mono' }, str(c.address) + (c.port ? ':' + c.port : ''))),
        fact('smb-user', ww.t('alerts.smb.loggedInAs'), orDash(c.user)),
        fact('smb-machine', ww.t('alerts.smb.machine'), orDash(c.machine)),
        fact('smb-shares', ww.t('alerts.smb.sharesLabel'), orDash(isArray(c.shares) ? c.shares.join(', ') : '')),
        fact('smb-port', ww.t('alerts.smb.serverPort'), orDash(c.server_port)),
        fact('smb-dialect', ww.t('alerts.smb.dialect'), orDash(c.dialect))
      ]);
      if (!ww.may('act') || !c.address) {
        return facts;
      }
      status = el('p', { id: 'alert-smb-block-status', className: 'muted small', role: 'status' });
      button = el('button', { type: 'button', className: 'btn btn-primary', id: 'alert-smb-block' },
        ww.t('alerts.smb.block', { host: hostNameOf(a) }));
      args = { address: String(c.address) };
      if (c.server_port) {
        args.port = c.server_port;
      }
      queueOnClick(button, status, ww.t('alerts.smb.asking'), ww.hostPath(a.host_id, '/commands'),
        { kind: 'smb.block', args: args }, function (command) {
          return ww.t('alerts.smb.queued', { id: str(command.id), address: str(c.address) });
        });
      return [facts, el('p', null, ww.t('alerts.smb.note')),
        button, status];
    }

    function parentsTable(list) {
      var t = dataTable('alert-parents', [
        { label: ww.t('alerts.generation'), className: 'shrink' },
        { label: ww.t('alerts.pid'), className: 'num shrink' },
        { label: ww.t('alerts.exe') },
        { label: ww.t('alerts.cmdline') }
      ]);
      var i, p;
      if (!list.length) {
        messageRow(t.tbody, t.columns, ww.t('alerts.noParents'));
      }
      for (i = 0; i < list.length; i++) {
        p = list[i] || {};
        t.tbody.appendChild(el('tr', { className: 'parent-row' }, [
          el('td', { className: 'nowrap muted' }, i === 0 ? ww.t('alerts.parent') : (i === 1 ? ww.t('alerts.grandparent') : ww.t('alerts.up', { n: formatCount(i + 1) }))),
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
        { label: ww.t('alerts.path') },
        { label: ww.t('alerts.changes') },
        { label: ww.t('alerts.pids'), className: 'shrink' },
        { label: ww.t('alerts.hashBefore'), title: ww.t('alerts.hashBeforeTitle') },
        { label: ww.t('alerts.hashAfter'), title: ww.t('alerts.hashAfterTitle') }
      ]);
      var i, f, changes, j;
      if (!list.length) {
        messageRow(t.tbody, t.columns, ww.t('alerts.noFiles'));
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
          countText(a.files_omitted, 'alerts.filesOmitted.one', 'alerts.filesOmitted.many')) : null
      ];
    }

    function render(a) {
      var times = a.times || {};
      var signals = isArray(a.signal_details) ? a.signal_details : [];
      var problems = isArray(a.problems) ? a.problems : [];
      var signalList = el('ul', { className: 'signals', id: 'alert-signals' });
      var problemList = el('ul', null);
      var i;
      setText(title, a.title ? String(a.title) : ww.t('alerts.alertTitle', { id: alertId }));
      title.setAttribute('id', 'alert-title');
      setTitle(ww.t('alerts.alertOnHost', { id: alertId, host: hostNameOf(a) }));
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
          el('p', null, ww.t('alerts.problems')), problemList]) : null,
        el('dl', { className: 'facts', id: 'alert-facts' }, [
          fact('host', ww.t('alerts.host'), [el('a', { className: 'host-link', href: hostHash(a.host_id) }, hostNameOf(a)),
            a.department ? el('span', { className: 'muted' }, ' ' + String(a.department)) : null]),
          fact('received', ww.t('alerts.received'), dateAndAgo(a.received_at)),
          fact('raised', ww.t('alerts.raised'), dateAndAgo(typeof a.alert_time === 'number' ? a.alert_time : a.time)),
          fact('level', ww.t('alerts.level'), levelBadge(a)),
          fact('action', ww.t('alerts.action'), actionNode(a, true)),
          fact('severity', ww.t('alerts.severity'), orDash(a.severity ? levelText(String(a.severity)) : a.severity)),
          fact('score', ww.t('alerts.score'), orDash(a.score)),
          fact('source', ww.t('alerts.detector'), orDash(a.source)),
          fact('first-change', ww.t('alerts.firstChange'), dateAndAgo(times.first_event)),
          fact('stopped', ww.t('alerts.stopped'), dateAndAgo(times.action)),
          fact('files', ww.t('alerts.filesTouched'), formatCount(a.files_total)),
          fact('id', ww.t('alerts.alert'), el('span', { className: 'mono' },
            ww.t('alerts.idText', { id: str(a.id), seq: str(a.seq), host: str(a.host_id) })))
        ]),
        signals.length ? section('alert-signals-section', ww.t('alerts.why'), signalList) : null,
        a.smb_client ? section('alert-smb-section', ww.t('alerts.smbSection'), smbClientFacts(a)) : null,
        section('alert-process-section', ww.t('alerts.process'), processFacts(a.process)),
        section('alert-parents-section', ww.t('alerts.parentChain'), parentsTable(isArray(a.parents) ? a.parents : [])),
        section('alert-files-section', ww.t('alerts.filesSection', { n: formatCount(a.files_total) }), filesTable(a)),
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
      button = el('button', { type: 'button', className: 'btn btn-primary', id: 'alert-restore' }, ww.t('alerts.restore'));
      queueOnClick(button, status, ww.t('alerts.restoreAsking'), alertPath(alertId) + '/restore', {}, function (c) {
        var files = c.args && ww.isArray(c.args.files) ? c.args.files.length : 0;
        return ww.t(files === 1 ? 'alerts.restoreQueued.one' : 'alerts.restoreQueued.many', { id: str(c.id), n: formatCount(files) });
      });
      return section('alert-restore-section', ww.t('alerts.recover'), [
        el('p', null, ww.t('alerts.restoreNote')),
        button, status
      ]);
    }

    api('GET', alertPath(alertId), null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        showError(err.status === 404 ? err.message : ww.t('alerts.loadOneError', { message: err.message }));
        clear(body);
        append(body, noticeWithLink('alert-not-found',
          err.status === 404 ? ww.t('alerts.noSuchAlert', { id: alertId }) : ww.t('alerts.loadOneFailed'),
          '#/alerts', ww.t('alerts.backToList')));
        return;
      }
      if (!data.alert) {
        showError(ww.t('alerts.noAlertInAnswer'));
        return;
      }
      clearError();
      render(data.alert);
    });
  }

  ww.views.alerts = showAlerts;
  ww.views.alert = showAlert;
}(wardwatch));
