/*
 * wardwatch console, patches.js: the Patches view (#/patches): per department and per
 * terminal the upgrades its open findings call for (planned), how many the installed
 * patches bundle holds (available), the latest installation (installed or failed) and
 * the risk the upgrades remove; "Patch now" for admins. The department totals cover the
 * fleet; the terminals are searched, filtered by department and paged (50 at a time,
 * riskiest first) by the server, the list's state kept in the URL. Everything from the
 * server is text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, clear = ww.clear, isArray = ww.isArray;
  var str = ww.str, formatCount = ww.formatCount, fullDate = ww.fullDate;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;
  var hostPath = ww.hostPath, state = ww.state, showMessage = ww.showMessage;
  var setText = ww.setText, trim = ww.trim, encodeQuery = ww.encodeQuery;
  var messageRow = ww.messageRow;

  var STATE_CLASS = { queued: 'fstate-accepted', running: 'fstate-accepted', installed: 'fstate-fixed', failed: 'fstate-open' };

  ww.i18n.add({
    en: {
      'patches.title': 'Patches',
      'patches.legend': 'Upgrades that close open findings, per terminal: planned from the findings, available when the ' +
        'installed patches bundle holds them, installed or failed as the terminal reported. Terminals check Debian\u2019s signatures ' +
        'themselves, only upgrade and never remove a package.',
      'patches.separator': ', ',
      'patches.ransomware': '{n} used by ransomware',
      'patches.exploited': '{n} known exploited',
      'patches.advisory.one': '{n} advisory',
      'patches.advisory.many': '{n} advisories',
      'patches.advisoryInAll.one': '{n} advisory in all',
      'patches.advisoryInAll.many': '{n} advisories in all',
      'patches.noBundle': 'No patches bundle is installed. Plan with `wardwatch patch plan`, fetch on a machine with internet with `wardwatch patch fetch`, ' +
        'sign it with `wardwatch bundle build --kind patches` and import it on the Bundles page.',
      'patches.system': '{name} ({packages})',
      'patches.package.one': '{n} package',
      'patches.package.many': '{n} packages',
      'patches.noSystem': 'no system',
      'patches.bundle': 'Patches bundle version {v} for {systems}; made {made}.',
      'patches.orLater': '{v} or later (not in the bundle)',
      'patches.nothingToUpgrade': 'nothing left to upgrade',
      'patches.state.queued': 'queued',
      'patches.state.running': 'running',
      'patches.state.installed': 'installed',
      'patches.state.failed': 'failed',
      'patches.notYet': 'not yet',
      'patches.patchNowTitle': 'Install this terminal\u2019s upgrades from the patches bundle now',
      'patches.nothingInBundle': 'The patches bundle holds none of its upgrades',
      'patches.patchNow': 'Patch now',
      'patches.confirm': 'Install the upgrades of {host} from the patches bundle now?',
      'patches.sendFailed': 'Could not send the command: {error}',
      'patches.queued': 'Patch installation queued for {host}; its agent picks it up within about 10 seconds.',
      'patches.empty': 'No terminal has an open finding that an upgrade fixes.',
      'patches.col.department': 'Department',
      'patches.col.terminals': 'Terminals',
      'patches.col.planned': 'Planned',
      'patches.col.available': 'Available',
      'patches.col.installed': 'Installed',
      'patches.col.failed': 'Failed',
      'patches.col.removes': 'Advisories removed',
      'patches.col.host': 'Host',
      'patches.col.upgrades': 'Upgrades',
      'patches.col.last': 'Last installation',
      'patches.byDepartment': 'By department',
      'patches.byTerminal': 'Terminals, most risk first',
      'patches.notCovered': 'Not patched by bundles',
      'patches.notCoveredItem': '{name}: {why}',
      'patches.loadFailed': 'Could not load the patches: {error}',
      'patches.loading': 'Loading patches',
      'patches.searchPlaceholder': 'Search name or department',
      'patches.searchLabel': 'Search terminals',
      'patches.noMatch': 'No terminal matches the filter.',
      'patches.emptyPage': 'No terminals on this page.',
      'patches.showing.one': 'Showing {from}\u2013{to} of {n} terminal',
      'patches.showing.many': 'Showing {from}\u2013{to} of {n} terminals'
    },
    zh: {
      'patches.title': '补丁',
      'patches.legend': '按终端列出可修复未修复漏洞项的升级：“计划”根据漏洞项得出；已安装的补丁更新包中含有时为“可用”；' +
        '“已安装”或“失败”以终端上报为准。终端会自行校验 Debian 的签名，只做升级，从不卸载软件包。',
      'patches.separator': '，',
      'patches.ransomware': '{n} 条被勒索软件利用',
      'patches.exploited': '{n} 条已知被利用',
      'patches.advisory.one': '{n} 条安全公告',
      'patches.advisory.many': '{n} 条安全公告',
      'patches.advisoryInAll.one': '共 {n} 条安全公告',
      'patches.advisoryInAll.many': '共 {n} 条安全公告',
      'patches.noBundle': '尚未安装补丁更新包。请用 `wardwatch patch plan` 制定计划，在能上网的机器上用 `wardwatch patch fetch` 下载，' +
        '用 `wardwatch bundle build --kind patches` 签名，然后在“更新包”页面导入。',
      'patches.system': '{name}（{packages}）',
      'patches.package.one': '{n} 个软件包',
      'patches.package.many': '{n} 个软件包',
      'patches.noSystem': '无',
      'patches.bundle': '补丁更新包版本 {v}，适用于：{systems}；生成于 {made}。',
      'patches.orLater': '{v} 或更高版本（更新包中没有）',
      'patches.nothingToUpgrade': '无需升级',
      'patches.state.queued': '排队中',
      'patches.state.running': '安装中',
      'patches.state.installed': '已安装',
      'patches.state.failed': '失败',
      'patches.notYet': '尚未安装',
      'patches.patchNowTitle': '立即从补丁更新包安装此终端的升级',
      'patches.nothingInBundle': '补丁更新包中没有此终端需要的升级',
      'patches.patchNow': '立即安装补丁',
      'patches.confirm': '立即从补丁更新包为 {host} 安装升级？',
      'patches.sendFailed': '无法发送命令：{error}',
      'patches.queued': '已为 {host} 排队安装补丁，终端代理约 10 秒内会接收。',
      'patches.empty': '没有终端存在可通过升级修复的未修复漏洞项。',
      'patches.col.department': '科室',
      'patches.col.terminals': '终端',
      'patches.col.planned': '计划',
      'patches.col.available': '可用',
      'patches.col.installed': '已安装',
      'patches.col.failed': '失败',
      'patches.col.removes': '消除的安全公告',
      'patches.col.host': '终端',
      'patches.col.upgrades': '升级',
      'patches.col.last': '最近一次安装',
      'patches.byDepartment': '按科室',
      'patches.byTerminal': '终端（风险最高的在前）',
      'patches.notCovered': '无法通过更新包打补丁的终端',
      'patches.notCoveredItem': '{name}：{why}',
      'patches.loadFailed': '无法加载补丁信息：{error}',
      'patches.loading': '正在加载补丁信息',
      'patches.searchPlaceholder': '搜索名称或科室',
      'patches.searchLabel': '搜索终端',
      'patches.noMatch': '没有符合筛选条件的终端。',
      'patches.emptyPage': '本页没有终端。',
      'patches.showing.one': '第 {from}–{to} 台，共 {n} 台终端',
      'patches.showing.many': '第 {from}–{to} 台，共 {n} 台终端'
    }
  });

  /* "1 package", "3 packages": a count and its noun, from the words KEY.one and KEY.many. */
  function counted(key, n) {
    return ww.t(n === 1 ? key + '.one' : key + '.many', { n: formatCount(n) });
  }

  /* What the upgrades remove, most urgent first: "1 used by ransomware, 2 known exploited,
     5 advisories in all". */
  function removes(x) {
    var parts = [];
    if (x.ransomware) {
      parts.push(ww.t('patches.ransomware', { n: formatCount(x.ransomware) }));
    }
    if (x.exploited) {
      parts.push(ww.t('patches.exploited', { n: formatCount(x.exploited) }));
    }
    parts.push(counted(parts.length ? 'patches.advisoryInAll' : 'patches.advisory', x.advisories || 0));
    return parts.join(ww.t('patches.separator'));
  }

  /* The state of the latest installation in the user's language; the code itself when it
     is not one of STATE_CLASS's. */
  function stateWord(code) {
    return STATE_CLASS[code] ? ww.t('patches.state.' + code) : str(code);
  }

  function bundleLine(b) {
    if (!b) {
      return el('p', { id: 'patches-bundle', className: 'notice' }, ww.t('patches.noBundle'));
    }
    var systems = isArray(b.systems) ? b.systems.map(function (s) {
      return ww.t('patches.system', { name: str(s[0]), packages: counted('patches.package', s[1] || 0) });
    }) : [];
    return el('p', { id: 'patches-bundle', className: 'muted' }, [
      ww.t('patches.bundle', { v: str(b.version), systems: systems.length ? systems.join(ww.t('patches.separator')) : ww.t('patches.noSystem'),
        made: fullDate(b.created) })
    ]);
  }

  function departmentRow(d) {
    return el('tr', { 'data-department': str(d.department) }, [
      el('td', null, str(d.department) || DASH),
      el('td', { className: 'num' }, formatCount(d.hosts)),
      el('td', { className: 'num' }, formatCount(d.upgrades)),
      el('td', { className: 'num' }, formatCount(d.available)),
      el('td', { className: 'num' }, formatCount(d.installed)),
      el('td', { className: 'num' }, formatCount(d.failed)),
      el('td', null, removes(d))
    ]);
  }

  function hostRow(h, onPatch) {
    var ups = isArray(h.upgrades) ? h.upgrades : [];
    var last = h.last_install;
    var list = el('ul', { className: 'plain' });
    ups.forEach(function (u) {
      list.appendChild(el('li', null, str(u.name) + ' ' + str(u.installed) + ' \u2192 ' +
        (u.available ? str(u.available) : ww.t('patches.orLater', { v: str(u.fixed) }))));
    });
    return el('tr', { className: 'patch-row', 'data-host': str(h.host_id) }, [
      el('td', null, el('a', { className: 'host-link', href: hostHash(h.host_id) }, str(h.hostname || h.host_id))),
      el('td', null, str(h.department) || DASH),
      el('td', { className: 'patch-upgrades' }, ups.length ? list : el('span', { className: 'muted' }, ww.t('patches.nothingToUpgrade'))),
      el('td', { className: 'num patch-planned' }, formatCount(ups.length)),
      el('td', { className: 'num patch-available' }, formatCount(h.available)),
      el('td', { className: 'patch-removes' }, removes(h)),
      el('td', { className: 'patch-state' }, last ? [
        el('span', { className: 'fstate ' + (STATE_CLASS[last.state] || '') }, stateWord(last.state)),
        ' ', el('span', { className: 'muted small' }, str(last.summary))
      ] : el('span', { className: 'muted' }, ww.t('patches.notYet'))),
      onPatch ? el('td', null, el('button', {
        type: 'button', className: 'btn patch-now', 'data-host': str(h.host_id),
        disabled: !h.available,
        title: h.available ? ww.t('patches.patchNowTitle') : ww.t('patches.nothingInBundle'),
        onclick: function () { onPatch(h, this); }
      }, ww.t('patches.patchNow'))) : null
    ]);
  }

  var PAGE_SIZE = 50;
  /* The list's state in the URL (lib.js listFromUrl). */
  var LIST = { base: '#/patches', filters: { department: 200 } };

  function showPatches(query) {
    var view = beginView('patches');
    var list = ww.listFromUrl(query, LIST);
    var loading = false;
    var isAdmin = state.role === 'admin';
    var head = el('div', { id: 'patches-head' });
    var note = el('div', { id: 'patches-status', className: 'form-note', role: 'status', hidden: true });
    var body = el('div', { id: 'patches-body' });
    setTitle(ww.t('patches.title'));

    /* The terminals' search, filter and pages stay in place while the answers change
       around them (typing must not lose the box). */
    var filter = el('input', {
      id: 'patches-search', type: 'search', placeholder: ww.t('patches.searchPlaceholder'),
      'aria-label': ww.t('patches.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var departmentInput = el('input', { id: 'patches-department', type: 'search', placeholder: ww.t('patches.col.department'),
      'aria-label': ww.t('patches.col.department'), maxlength: 200, value: list.department });
    var shownInfo = el('span', { className: 'info', id: 'patches-shown' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'patches-prev' }, ww.t('common.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'patches-next' }, ww.t('common.next'));
    prev.disabled = list.page <= 1;
    next.disabled = true;
    var t = dataTable('patches-hosts', [
      { label: ww.t('patches.col.host') }, { label: ww.t('patches.col.department') }, { label: ww.t('patches.col.upgrades') },
      { label: ww.t('patches.col.planned'), className: 'num shrink' },
      { label: ww.t('patches.col.available'), className: 'num shrink' }, { label: ww.t('patches.col.removes') },
      { label: ww.t('patches.col.last') }
    ].concat(isAdmin ? [{ label: '', className: 'shrink' }] : []));
    /* What is rebuilt with each answer: the department totals (or the notice that there is
       nothing to patch) above the terminals, and the terminals no bundle patches below. */
    var top = el('div');
    var terminals = el('div', { hidden: true }, [
      el('h2', null, ww.t('patches.byTerminal')),
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, filter),
        departmentInput,
        shownInfo,
        el('span', { className: 'spacer' }),
        prev, next
      ]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);
    var bottom = el('div');
    append(body, [top, terminals, bottom]);
    append(document.getElementById('app'), [
      el('h1', null, ww.t('patches.title')),
      el('p', { className: 'legend' }, ww.t('patches.legend')),
      head, note, body
    ]);

    /* The URL holds the list's state, so a filtered list can be bookmarked and shared;
       replaced in place, so that typing does not fill the history or reload the view. */
    function rememberAndReload() {
      ww.keepListInUrl(list, LIST, false, load);
    }

    function patchNow(h, button) {
      if (!window.confirm(ww.t('patches.confirm', { host: str(h.hostname) }))) {
        return;
      }
      button.disabled = true;
      api('POST', hostPath(h.host_id, '/commands'), { kind: 'patch.install', args: { dry_run: false } }, function (err) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          button.disabled = false;
          showError(ww.t('patches.sendFailed', { error: err.message }));
          return;
        }
        clearError();
        showMessage(note, ww.t('patches.queued', { host: str(h.hostname) }));
        load();
      });
    }

    function render(data) {
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var depts = isArray(data.departments) ? data.departments : [];
      var total = typeof data.hosts_total === 'number' ? data.hosts_total : hosts.length;
      var filtered = list.q || list.department;
      var d, rows;
      clear(head);
      append(head, bundleLine(data.bundle));
      clear(top);
      clear(bottom);
      /* Nothing to patch anywhere (the department totals cover the fleet). */
      if (!depts.length && !hosts.length && !total) {
        terminals.hidden = true;
        append(top, el('div', { className: 'notice', id: 'patches-empty' },
          ww.t('patches.empty')));
      } else {
        d = dataTable('patches-departments', [
          { label: ww.t('patches.col.department') }, { label: ww.t('patches.col.terminals'), className: 'num shrink' },
          { label: ww.t('patches.col.planned'), className: 'num shrink' },
          { label: ww.t('patches.col.available'), className: 'num shrink' }, { label: ww.t('patches.col.installed'), className: 'num shrink' },
          { label: ww.t('patches.col.failed'), className: 'num shrink' }, { label: ww.t('patches.col.removes') }
        ]);
        rows = document.createDocumentFragment();
        depts.forEach(function (x) { rows.appendChild(departmentRow(x)); });
        fillTable(d, rows, depts.length, '');
        append(top, [el('h2', null, ww.t('patches.byDepartment')), el('div', { className: 'table-wrap' }, d.table)]);
        rows = document.createDocumentFragment();
        hosts.forEach(function (h) { rows.appendChild(hostRow(h, isAdmin ? patchNow : null)); });
        clear(t.tbody);
        if (hosts.length) {
          t.tbody.appendChild(rows);
        } else {
          messageRow(t.tbody, t.columns, total ? ww.t('patches.emptyPage') :
            (filtered ? ww.t('patches.noMatch') : ww.t('patches.empty')));
        }
        terminals.hidden = false;
      }
      ww.showPage(list, PAGE_SIZE, hosts.length, total, shownInfo, prev, next, 'patches.showing');
      if (isArray(data.not_covered) && data.not_covered.length) {
        var notCovered = el('ul', { id: 'patches-not-covered' });
        data.not_covered.forEach(function (n) {
          notCovered.appendChild(el('li', null, ww.t('patches.notCoveredItem', { name: str(n[0]), why: str(n[1]) })));
        });
        append(bottom, [el('h2', null, ww.t('patches.notCovered')), notCovered]);
      }
    }

    /* The request for the page the list is on. */
    function listPath() {
      return '/api/patches' + encodeQuery({
        q: list.q, department: list.department,
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
          showError(ww.t('patches.loadFailed', { error: err.message }));
          return;
        }
        clearError();
        render(data || {});
      });
    }

    ww.listInput(view, filter, list, 'q', function () { rememberAndReload(); });
    ww.listInput(view, departmentInput, list, 'department', function () { rememberAndReload(); });
    ww.pageButtons(list, prev, next, function () { rememberAndReload(); });

    var placeholder = dataTable('patches-loading', [{ label: ww.t('patches.col.host') }]);
    loadingRow(placeholder, ww.t('patches.loading'));
    append(top, placeholder.table);
    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.patches = showPatches;
}(wardwatch));
