/*
 * wardwatch console, backups.js: every terminal's backups (#/backups), by department:
 * the last good backup and its age, snapshots kept, the last run, check and retention,
 * and what is wrong in sentences; the default retention policy. The terminals are
 * searched, filtered by department, sorted and paged (50 at a time) by the server, the
 * list's state kept in the URL; sorted by name or last backup, they form one table with
 * a department column instead of one table per department. For admins, a per-host
 * "Restore…" form: a snapshot (newest first), paths inside it, in place or into a folder
 * on the terminal; the queued command's state and result follow below the form.
 * Everything the server sends is shown as text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, clear = ww.clear, isArray = ww.isArray;
  var str = ww.str, formatCount = ww.formatCount, dateCell = ww.dateCell;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;
  var hostPath = ww.hostPath, state = ww.state, showMessage = ww.showMessage;
  var setText = ww.setText, trim = ww.trim, encodeQuery = ww.encodeQuery;

  var RESTORE_POLL_MS = 3000; // the queued restore's state, until it is done

  ww.i18n.add({
    en: {
      'backups.title': 'Backups',
      'backups.legend': 'Each terminal backs up to its own append-only repository on this server; terminals can add backups but never delete or change one. Retention runs here only, by the time each backup arrived.',
      'backups.policy.one': 'Default retention: last {last}, daily {daily}, weekly {weekly}, monthly {monthly}; nothing younger than {n} day is removed.',
      'backups.policy.many': 'Default retention: last {last}, daily {daily}, weekly {weekly}, monthly {monthly}; nothing younger than {n} days is removed.',
      'backups.loading': 'Loading backups', 'backups.loadFailed': 'Could not load the backups: {error}',
      'backups.empty': 'No terminal backs up yet.',
      'backups.emptyHelp': 'Start agents with --backup-path for the folders to protect (for example /srv/share); the first backup creates the terminal\'s repository.',
      'backups.col.host': 'Host', 'backups.col.lastBackup': 'Last backup', 'backups.col.snapshots': 'Snapshots',
      'backups.col.lastRun': 'Last run', 'backups.col.check': 'Check', 'backups.col.drill': 'Drill',
      'backups.col.retention': 'Retention', 'backups.col.problems': 'What is wrong',
      'backups.terminals.one': '{n} terminal', 'backups.terminals.many': '{n} terminals',
      'backups.needAttention': ', {n} need attention', 'backups.deptWell': ', all well',
      'backups.never': 'never', 'backups.ok': 'ok', 'backups.failed': 'failed', 'backups.allWell': 'all well',
      'backups.restore': 'Restore', 'backups.restoreOn': 'Restore on {host}',
      'backups.restoreNote': 'The terminal puts the files back the next time its agent asks the server (about every 10 s). A current file that differs is kept beside it as NAME.wardwatch-damaged-TIME; one that already matches is left alone.',
      'backups.snapshot': 'Snapshot ', 'backups.paths': 'Paths inside the snapshot, one per line (none: everything)',
      'backups.inPlace': ' in place', 'backups.intoFolder': ' into a folder on the terminal: ',
      'backups.confirm': 'Confirm restore', 'backups.close': 'Close',
      'backups.loadingSnapshots': 'Loading snapshots', 'backups.snapshotsFailed': 'Could not load the snapshots: {error}',
      'backups.received': 'received {when}', 'backups.newest': ' (newest)', 'backups.noSnapshot': 'no snapshot kept',
      'backups.ask.inPlace': 'Restore {what} {from} in place on {host}?',
      'backups.ask.into': 'Restore {what} {from} into {target} on {host}?',
      'backups.ask.everything': 'the whole snapshot',
      'backups.ask.fromSnapshot': 'from snapshot {id}', 'backups.ask.fromNewest': 'from snapshot newest',
      'backups.notQueued': 'The restore was not queued: {error}',
      'backups.followFailed': 'Could not follow the restore: {error}',
      'backups.cmd.queued': 'Restore command {id} is queued for the terminal',
      'backups.cmd.running': 'Restore command {id} is running on the terminal',
      'backups.cmd.done': 'Restore command {id} is done.', 'backups.cmd.failed': 'Restore command {id} failed.',
      'backups.outcome.one': 'Snapshot {id}: {n} file restored, {unchanged} unchanged, {failed} failed',
      'backups.outcome.many': 'Snapshot {id}: {n} files restored, {unchanged} unchanged, {failed} failed',
      'backups.outcome.skipped': ', {n} links or special files skipped', 'backups.outcome.stopped': ' (stopped early)',
      'backups.outcome.end': '.',
      'backups.col.department': 'Department',
      'backups.searchPlaceholder': 'Search name, label or department',
      'backups.searchLabel': 'Search terminals',
      'backups.sortBy': 'Sort by {column}',
      'backups.noMatch': 'No terminal matches the filter.',
      'backups.emptyPage': 'No terminals on this page.',
      'backups.showing.one': 'Showing {from}\u2013{to} of {n} terminal',
      'backups.showing.many': 'Showing {from}\u2013{to} of {n} terminals'
    },
    zh: {
      'backups.title': '备份',
      'backups.legend': '每台终端备份到本服务器上各自的只追加仓库；终端只能新增备份，不能删除或修改已有备份。保留策略只在服务器上执行，按每个备份到达的时间计算。',
      'backups.policy.one': '默认保留策略：最近 {last} 个，每日 {daily} 个，每周 {weekly} 个，每月 {monthly} 个；不满 {n} 天的备份不会删除。',
      'backups.policy.many': '默认保留策略：最近 {last} 个，每日 {daily} 个，每周 {weekly} 个，每月 {monthly} 个；不满 {n} 天的备份不会删除。',
      'backups.loading': '正在加载备份', 'backups.loadFailed': '无法加载备份：{error}',
      'backups.empty': '还没有终端进行备份。',
      'backups.emptyHelp': '启动代理时用 --backup-path 指定要保护的文件夹（例如 /srv/share）；首次备份时会创建该终端的仓库。',
      'backups.col.host': '终端', 'backups.col.lastBackup': '上次备份', 'backups.col.snapshots': '快照',
      'backups.col.lastRun': '上次运行', 'backups.col.check': '校验', 'backups.col.drill': '演练',
      'backups.col.retention': '保留', 'backups.col.problems': '问题',
      'backups.terminals.one': '{n} 台终端', 'backups.terminals.many': '{n} 台终端',
      'backups.needAttention': '，{n} 台需要处理', 'backups.deptWell': '，一切正常',
      'backups.never': '从未', 'backups.ok': '成功', 'backups.failed': '失败', 'backups.allWell': '一切正常',
      'backups.restore': '恢复', 'backups.restoreOn': '在 {host} 上恢复',
      'backups.restoreNote': '终端的代理下次向服务器查询时（约每 10 秒一次）会把文件放回。与快照不同的现有文件会改名为 NAME.wardwatch-damaged-TIME 保留在旁边；已一致的文件不做改动。',
      'backups.snapshot': '快照 ', 'backups.paths': '快照内的路径，每行一个（留空：全部恢复）',
      'backups.inPlace': ' 恢复到原位置', 'backups.intoFolder': ' 恢复到终端上的文件夹：',
      'backups.confirm': '确认恢复', 'backups.close': '关闭',
      'backups.loadingSnapshots': '正在加载快照', 'backups.snapshotsFailed': '无法加载快照：{error}',
      'backups.received': '接收于 {when}', 'backups.newest': '（最新）', 'backups.noSnapshot': '没有保留快照',
      'backups.ask.inPlace': '在 {host} 上{from}原位恢复 {what}？',
      'backups.ask.into': '在 {host} 上{from}恢复 {what} 到 {target}？',
      'backups.ask.everything': '全部文件',
      'backups.ask.fromSnapshot': '从快照 {id} ', 'backups.ask.fromNewest': '从最新快照',
      'backups.notQueued': '恢复命令未能下发：{error}',
      'backups.followFailed': '无法跟踪恢复进度：{error}',
      'backups.cmd.queued': '恢复命令 {id} 已排队，等待终端执行',
      'backups.cmd.running': '恢复命令 {id} 正在终端上执行',
      'backups.cmd.done': '恢复命令 {id} 已完成。', 'backups.cmd.failed': '恢复命令 {id} 执行失败。',
      'backups.outcome.one': '快照 {id}：已恢复 {n} 个文件，{unchanged} 个未变，{failed} 个失败',
      'backups.outcome.many': '快照 {id}：已恢复 {n} 个文件，{unchanged} 个未变，{failed} 个失败',
      'backups.outcome.skipped': '，跳过 {n} 个链接或特殊文件', 'backups.outcome.stopped': '（提前停止）',
      'backups.outcome.end': '。',
      'backups.col.department': '科室',
      'backups.searchPlaceholder': '搜索名称、标签或科室',
      'backups.searchLabel': '搜索终端',
      'backups.sortBy': '按{column}排序',
      'backups.noMatch': '没有符合筛选条件的终端。',
      'backups.emptyPage': '本页没有终端。',
      'backups.showing.one': '第 {from}–{to} 台，共 {n} 台终端',
      'backups.showing.many': '第 {from}–{to} 台，共 {n} 台终端'
    }
  });

  /* "3 terminals": KEY.one or KEY.many (English), with n grouped as the language does. */
  function counted(key, n, params) {
    var p = params || {};
    p.n = formatCount(n);
    return ww.t(key + (n === 1 ? '.one' : '.many'), p);
  }

  function checkCell(c) {
    if (!c) {
      return el('td', { className: 'muted' }, ww.t('backups.never'));
    }
    return el('td', null, [
      el('span', { className: c.ok ? 'badge badge-online' : 'badge badge-revoked' }, ww.t(c.ok ? 'backups.ok' : 'backups.failed')), ' ',
      dateCell(c.at)
    ]);
  }

  function restoreOutcome(c) {
    var r = c.result, lines = [], failures, i;
    if (typeof r === 'string') {
      return [r];
    }
    r = r || {};
    lines.push(counted('backups.outcome', r.restored || 0, {
      id: str(r.snapshot).substring(0, 12), unchanged: formatCount(r.unchanged || 0), failed: formatCount(r.failed || 0)
    }) + (r.skipped ? ww.t('backups.outcome.skipped', { n: formatCount(r.skipped) }) : '') +
      (r.stopped ? ww.t('backups.outcome.stopped') : '') + ww.t('backups.outcome.end'));
    failures = isArray(r.failures) ? r.failures : [];
    for (i = 0; i < failures.length; i++) {
      lines.push(str(failures[i].path) + ': ' + str(failures[i].note));
    }
    return lines;
  }

  /* The restore form for one host, in `panel`; `view` ends its polling. */
  function restoreForm(view, panel, h) {
    var snapshot = el('select', { id: 'restore-snapshot' }, el('option', { value: '' }, ww.t('backups.loadingSnapshots') + ww.ELLIPSIS));
    var paths = el('textarea', { id: 'restore-paths', rows: 4, cols: 60, placeholder: '/srv/share/records' });
    var inPlace = el('input', { type: 'radio', name: 'restore-where', id: 'restore-in-place', value: 'in-place', checked: true });
    var intoFolder = el('input', { type: 'radio', name: 'restore-where', id: 'restore-into-folder', value: 'folder' });
    var target = el('input', { type: 'text', id: 'restore-target', size: 50, placeholder: '/var/tmp/restored' });
    var review = el('button', { type: 'button', className: 'btn btn-primary', id: 'restore-review' }, ww.t('backups.restore') + ww.ELLIPSIS);
    var go = el('button', { type: 'button', className: 'btn btn-primary', id: 'restore-go', hidden: true }, ww.t('backups.confirm'));
    var cancel = el('button', { type: 'button', className: 'btn', id: 'restore-cancel' }, ww.t('backups.close'));
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
      el('h2', null, ww.t('backups.restoreOn', { host: str(h.hostname || h.host_id) })),
      el('p', { className: 'muted small' }, ww.t('backups.restoreNote')),
      el('p', null, [el('label', { 'for': 'restore-snapshot' }, ww.t('backups.snapshot')), snapshot]),
      el('p', null, [el('label', { 'for': 'restore-paths' }, ww.t('backups.paths')), el('br'), paths]),
      el('p', null, [inPlace, el('label', { 'for': 'restore-in-place' }, ww.t('backups.inPlace')), ' ',
        intoFolder, el('label', { 'for': 'restore-into-folder' }, ww.t('backups.intoFolder')), target]),
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
        showError(ww.t('backups.snapshotsFailed', { error: err.message }));
        return;
      }
      list = isArray(data && data.snapshots) ? data.snapshots : [];
      for (i = 0; i < list.length; i++) {
        s = list[i];
        snapshot.appendChild(el('option', { value: str(s.snapshot_id) },
          str(s.snapshot_id).substring(0, 12) + ' ' + DASH + ' ' + ww.t('backups.received', { when: new Date(s.received_at).toLocaleString() }) +
          (i === 0 ? ww.t('backups.newest') : '')));
      }
      if (!list.length) {
        snapshot.appendChild(el('option', { value: '' }, ww.t('backups.noSnapshot')));
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
          showMessage(status, ww.t('backups.followFailed', { error: err.message }));
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
          showMessage(status, ww.t(c.picked_at ? 'backups.cmd.running' : 'backups.cmd.queued', { id: id }) + ww.ELLIPSIS);
          return;
        }
        window.clearInterval(polling);
        polling = null;
        showMessage(status, ww.t(c.ok ? 'backups.cmd.done' : 'backups.cmd.failed', { id: id }));
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
      append(summary, ww.t(r.target ? 'backups.ask.into' : 'backups.ask.inPlace', {
        what: r.paths.length ? r.paths.join(', ') : ww.t('backups.ask.everything'),
        from: r.snapshot ? ww.t('backups.ask.fromSnapshot', { id: r.snapshot.substring(0, 12) }) : ww.t('backups.ask.fromNewest'),
        target: r.target || '',
        host: str(h.hostname || h.host_id)
      }));
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
          showError(ww.t('backups.notQueued', { error: err.message }));
          return;
        }
        clearError();
        go.hidden = true;
        summary.hidden = true;
        id = data && data.command ? data.command.id : null;
        status.setAttribute('data-command', String(id));
        showMessage(status, ww.t('backups.cmd.queued', { id: id }) + ww.ELLIPSIS);
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

  /* withDepartment: the row of the one table (sorted by name or last backup), which has
     a department column. */
  function hostRow(h, onRestore, withDepartment) {
    var problems = isArray(h.problems) ? h.problems : [];
    var list = el('ul', { className: 'plain' });
    var i;
    for (i = 0; i < problems.length; i++) {
      list.appendChild(el('li', null, String(problems[i])));
    }
    return el('tr', { className: problems.length ? 'backup-row backup-attention' : 'backup-row', 'data-host': str(h.host_id) }, [
      el('td', null, el('a', { className: 'host-link', href: hostHash(h.host_id) }, str(h.hostname || h.host_id))),
      withDepartment ? el('td', { className: 'backup-department' }, str(h.department) || DASH) : null,
      el('td', null, h.last_snapshot_at ? dateCell(h.last_snapshot_at) : el('span', { className: 'muted' }, ww.t('backups.never'))),
      el('td', { className: 'num' }, formatCount(h.snapshots)),
      checkCell(h.last_run),
      checkCell(h.last_check),
      checkCell(h.last_drill),
      checkCell(h.last_retention),
      el('td', { className: 'backup-problems' }, problems.length ? list : el('span', { className: 'muted' }, ww.t('backups.allWell'))),
      onRestore ? el('td', null, el('button', {
        type: 'button', className: 'btn restore-open', 'data-host': str(h.host_id),
        onclick: function () { onRestore(h); }
      }, ww.t('backups.restore') + ww.ELLIPSIS)) : null
    ]);
  }

  var PAGE_SIZE = 50;
  /* The list's state in the URL (lib.js listFromUrl). */
  var LIST = {
    base: '#/backups',
    filters: { department: 200 },
    sorts: ['department', 'name', 'last_backup'], sort: 'department', order: 'asc'
  };

  function showBackups(query) {
    var view = beginView('backups');
    var list = ww.listFromUrl(query, LIST);
    var loading = false;
    var body = el('div', { id: 'backups-body' });
    var policy = el('p', { id: 'backups-policy', className: 'muted small' });
    var restorePanel = el('section', { id: 'backup-restore', className: 'notice', hidden: true });
    var isAdmin = ww.may('act');
    var onRestore = isAdmin ? function (h) {
      restoreForm(view, restorePanel, h);
    } : null;
    setTitle(ww.t('backups.title'));

    var filter = el('input', {
      id: 'backups-search', type: 'search', placeholder: ww.t('backups.searchPlaceholder'),
      'aria-label': ww.t('backups.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var departmentInput = el('input', { id: 'backups-department', type: 'search', placeholder: ww.t('backups.col.department'),
      'aria-label': ww.t('backups.col.department'), maxlength: 200, value: list.department });
    var shownInfo = el('span', { className: 'info', id: 'backups-shown' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'backups-prev' }, ww.t('common.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'backups-next' }, ww.t('common.next'));
    prev.disabled = list.page <= 1;
    next.disabled = true;

    append(document.getElementById('app'), [
      el('h1', null, ww.t('backups.title')),
      el('p', { className: 'legend' }, ww.t('backups.legend')),
      policy,
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, filter),
        departmentInput,
        shownInfo,
        el('span', { className: 'spacer' }),
        prev, next
      ]),
      restorePanel,
      body
    ]);

    /* The URL holds the list's state, so a filtered list can be bookmarked and shared;
       replaced in place, so that typing does not fill the history or reload the view. */
    function rememberAndReload(rebuild) {
      ww.keepListInUrl(list, LIST, rebuild, load);
    }

    /* A table of terminals (id), its sortable headers sorting the list: a second click
       turns the order round. */
    function hostTable(id, withDepartment) {
      var columns = [{ label: ww.t('backups.col.host'), sort: 'name' }]
        .concat(withDepartment ? [{ label: ww.t('backups.col.department'), sort: 'department' }] : [])
        .concat([
          { label: ww.t('backups.col.lastBackup'), sort: 'last_backup' },
          { label: ww.t('backups.col.snapshots'), className: 'num shrink' },
          { label: ww.t('backups.col.lastRun') }, { label: ww.t('backups.col.check') }, { label: ww.t('backups.col.drill') },
          { label: ww.t('backups.col.retention') }, { label: ww.t('backups.col.problems') }
        ])
        .concat(isAdmin ? [{ label: '', className: 'shrink' }] : []);
      var t = dataTable(id, columns.map(function (c) {
        var arrow = list.sort === c.sort ? (list.order === 'desc' ? ' \u25be' : ' \u25b4') : '';
        return { label: c.label + arrow, className: c.className, title: c.sort ? ww.t('backups.sortBy', { column: c.label.toLowerCase() }) : null };
      }));
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
          list.order = list.sort === key && list.order === 'asc' ? 'desc' : 'asc';
          list.sort = key;
          list.page = 1;
          rememberAndReload(true);
        }, false);
      });
      return t;
    }

    function render(data) {
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var total = typeof data.total === 'number' ? data.total : hosts.length;
      var filtered = list.q || list.department;
      var byDept = {}, depts = [], i, d, t, rows, bad;
      var p = data.default_policy || {};
      clear(policy);
      append(policy, counted('backups.policy', p.min_age_days || 0, {
        last: str(p.keep_last), daily: str(p.keep_daily), weekly: str(p.keep_weekly), monthly: str(p.keep_monthly)
      }));
      ww.showPage(list, PAGE_SIZE, hosts.length, total, shownInfo, prev, next, 'backups.showing');
      clear(body);
      if (!hosts.length) {
        if (total || filtered) {
          append(body, el('p', { className: 'muted', id: 'backups-none' },
            total ? ww.t('backups.emptyPage') : ww.t('backups.noMatch')));
          return;
        }
        append(body, el('div', { className: 'notice', id: 'backups-empty' }, [
          el('p', null, ww.t('backups.empty')),
          el('p', null, ww.t('backups.emptyHelp'))
        ]));
        return;
      }
      /* Sorted by name or last backup: one table, with the department in a column. */
      if (list.sort !== 'department') {
        t = hostTable('backups-0', true);
        rows = document.createDocumentFragment();
        hosts.forEach(function (h) { rows.appendChild(hostRow(h, onRestore, true)); });
        fillTable(t, rows, hosts.length, '');
        append(body, el('div', { className: 'table-wrap' }, t.table));
        return;
      }
      for (i = 0; i < hosts.length; i++) {
        d = str(hosts[i].department) || DASH;
        if (!Object.prototype.hasOwnProperty.call(byDept, d)) {
          byDept[d] = [];
          depts.push(d);
        }
        byDept[d].push(hosts[i]);
      }
      for (i = 0; i < depts.length; i++) {
        t = hostTable('backups-' + i, false);
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
          el('h2', null, depts[i] + ' ' + DASH + ' ' + counted('backups.terminals', byDept[depts[i]].length) +
            (bad ? ww.t('backups.needAttention', { n: formatCount(bad) }) : ww.t('backups.deptWell'))),
          el('div', { className: 'table-wrap' }, t.table)
        ]));
      }
    }

    /* The request for the page the list is on. */
    function listPath() {
      return '/api/backups' + encodeQuery({
        q: list.q, department: list.department, sort: list.sort, order: list.order,
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
          showError(ww.t('backups.loadFailed', { error: err.message }));
          return;
        }
        clearError();
        render(data || {});
      });
    }

    ww.listInput(view, filter, list, 'q', function () { rememberAndReload(false); });
    ww.listInput(view, departmentInput, list, 'department', function () { rememberAndReload(false); });
    ww.pageButtons(list, prev, next, function () { rememberAndReload(false); });

    var placeholder = dataTable('backups-loading', [{ label: ww.t('backups.col.host') }]);
    loadingRow(placeholder, ww.t('backups.loading'));
    append(body, placeholder.table);
    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.backups = showBackups;
}(wardwatch));
