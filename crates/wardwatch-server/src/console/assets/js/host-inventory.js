/*
 * wardwatch console, host-inventory.js: the host page's inventory tabs, as the agent
 * reports them: installed packages (searched and paged on the server), listening
 * services, accounts, and the history of changes.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, setText = ww.setText, show = ww.show, setClass = ww.setClass;
  var isArray = ww.isArray, orDash = ww.orDash, str = ww.str, trim = ww.trim;
  var formatCount = ww.formatCount, yesNo = ww.yesNo, dateAndAgoNodes = ww.dateAndAgoNodes;
  var api = ww.api, hostPath = ww.hostPath, encodeQuery = ww.encodeQuery, showError = ww.showError;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, tableLoader = ww.tableLoader, onTyping = ww.onTyping;
  var offsetPager = ww.offsetPager, lastPageOffset = ww.lastPageOffset;
  var SEARCH_DELAY_MS = ww.SEARCH_DELAY_MS;

  ww.i18n.add({
    en: {
      'inventory.packages.search': 'Search packages (name or source)',
      'inventory.packages.searchLabel': 'Search packages',
      'inventory.packages.col.name': 'Name',
      'inventory.packages.col.version': 'Version',
      'inventory.packages.col.arch': 'Arch',
      'inventory.packages.col.source': 'Source',
      'inventory.packages.col.type': 'Type',
      'inventory.packages.col.typeTitle': 'Package database',
      'inventory.packages.loading': 'Loading packages',
      'inventory.packages.noMatch': 'No package matches \u201c{query}\u201d.',
      'inventory.packages.noMore': 'No more packages.',
      'inventory.packages.none': 'This host has not reported any packages yet.',
      'inventory.packages.count': '{n} of {total}',
      'inventory.packages.showing': 'Showing packages {from}\u2013{to} of {total}',
      'inventory.packages.showingMatching': 'Showing packages {from}\u2013{to} of {total} matching \u201c{query}\u201d',
      'inventory.packages.loadError': 'Could not load the packages: {error}',
      'inventory.packages.loadFailed': 'The packages could not be loaded.',
      'inventory.listeners.col.protocol': 'Protocol',
      'inventory.listeners.col.address': 'Address',
      'inventory.listeners.col.port': 'Port',
      'inventory.listeners.col.process': 'Process',
      'inventory.listeners.col.pid': 'PID',
      'inventory.listeners.loading': 'Loading listening services',
      'inventory.listeners.legend': 'Addresses in bold listen on all network interfaces, so other machines can reach them.',
      'inventory.listeners.allInterfaces': 'All interfaces',
      'inventory.listeners.none': 'No listening services reported.',
      'inventory.listeners.count.one': '{n} listening socket',
      'inventory.listeners.count.many': '{n} listening sockets',
      'inventory.listeners.exposed': ', {n} on all interfaces',
      'inventory.listeners.loadWhat': 'listening services',
      'inventory.accounts.col.name': 'Name',
      'inventory.accounts.col.uid': 'UID',
      'inventory.accounts.col.gid': 'GID',
      'inventory.accounts.col.home': 'Home',
      'inventory.accounts.col.shell': 'Shell',
      'inventory.accounts.col.login': 'Login',
      'inventory.accounts.col.loginTitle': 'The shell lets the account log in',
      'inventory.accounts.col.sudo': 'Sudo',
      'inventory.accounts.col.sudoTitle': 'The account may run commands as root through sudo',
      'inventory.accounts.loading': 'Loading accounts',
      'inventory.accounts.legend': 'Highlighted: accounts that can log in and use sudo (administrators).',
      'inventory.accounts.adminTitle': 'Can log in and use sudo',
      'inventory.accounts.admin': 'admin',
      'inventory.accounts.none': 'No accounts reported.',
      'inventory.accounts.loadWhat': 'accounts',
      'inventory.accounts.count.one': '{n} account, {logins} can log in, {admins} can log in and use sudo',
      'inventory.accounts.count.many': '{n} accounts, {logins} can log in, {admins} can log in and use sudo',
      'inventory.history.col.time': 'Time',
      'inventory.history.col.event': 'Event',
      'inventory.history.col.details': 'Details',
      'inventory.history.loading': 'Loading history',
      'inventory.history.none': 'No changes recorded yet.',
      'inventory.history.loadWhat': 'history',
      'inventory.history.latest': 'The latest {n} changes, newest first',
      'inventory.history.count.one': '{n} change, newest first',
      'inventory.history.count.many': '{n} changes, newest first',
      'inventory.kind.inventory': 'inventory',
      'inventory.kind.os_changed': 'os changed',
      'inventory.kind.package_installed': 'package installed',
      'inventory.kind.package_removed': 'package removed',
      'inventory.kind.package_upgraded': 'package upgraded',
      'inventory.kind.listener_opened': 'listener opened',
      'inventory.kind.listener_closed': 'listener closed',
      'inventory.kind.account_added': 'account added',
      'inventory.kind.account_removed': 'account removed',
      'inventory.kind.account_changed': 'account changed',
      'inventory.kind.alert': 'alert',
      'inventory.kind.action': 'action',
      'inventory.kind.test': 'test'
    },
    zh: {
      'inventory.packages.search': '搜索软件包（名称或源码包）',
      'inventory.packages.searchLabel': '搜索软件包',
      'inventory.packages.col.name': '名称',
      'inventory.packages.col.version': '版本',
      'inventory.packages.col.arch': '架构',
      'inventory.packages.col.source': '源码包',
      'inventory.packages.col.type': '类型',
      'inventory.packages.col.typeTitle': '软件包数据库',
      'inventory.packages.loading': '正在加载软件包',
      'inventory.packages.noMatch': '没有与“{query}”匹配的软件包。',
      'inventory.packages.noMore': '没有更多软件包了。',
      'inventory.packages.none': '该终端尚未上报任何软件包。',
      'inventory.packages.count': '{n} / 共 {total} 个',
      'inventory.packages.showing': '显示第 {from}–{to} 个软件包，共 {total} 个',
      'inventory.packages.showingMatching': '与“{query}”匹配的软件包共 {total} 个，显示第 {from}–{to} 个',
      'inventory.packages.loadError': '无法加载软件包：{error}',
      'inventory.packages.loadFailed': '无法加载软件包。',
      'inventory.listeners.col.protocol': '协议',
      'inventory.listeners.col.address': '地址',
      'inventory.listeners.col.port': '端口',
      'inventory.listeners.col.process': '进程',
      'inventory.listeners.col.pid': 'PID',
      'inventory.listeners.loading': '正在加载监听服务',
      'inventory.listeners.legend': '粗体地址监听所有网络接口，其他机器可以访问。',
      'inventory.listeners.allInterfaces': '所有接口',
      'inventory.listeners.none': '未上报监听服务。',
      'inventory.listeners.count.one': '{n} 个监听端口',
      'inventory.listeners.count.many': '{n} 个监听端口',
      'inventory.listeners.exposed': '，其中 {n} 个监听所有接口',
      'inventory.listeners.loadWhat': '监听服务',
      'inventory.accounts.col.name': '名称',
      'inventory.accounts.col.uid': 'UID',
      'inventory.accounts.col.gid': 'GID',
      'inventory.accounts.col.home': '主目录',
      'inventory.accounts.col.shell': 'Shell',
      'inventory.accounts.col.login': '可登录',
      'inventory.accounts.col.loginTitle': '该账号的 Shell 允许登录',
      'inventory.accounts.col.sudo': 'Sudo',
      'inventory.accounts.col.sudoTitle': '该账号可通过 sudo 以 root 身份执行命令',
      'inventory.accounts.loading': '正在加载账号',
      'inventory.accounts.legend': '高亮：可登录且可使用 sudo 的账号（管理员）。',
      'inventory.accounts.adminTitle': '可登录且可使用 sudo',
      'inventory.accounts.admin': '管理员',
      'inventory.accounts.none': '未上报账号。',
      'inventory.accounts.loadWhat': '账号',
      'inventory.accounts.count.one': '{n} 个账号，{logins} 个可登录，{admins} 个可登录且可使用 sudo',
      'inventory.accounts.count.many': '{n} 个账号，{logins} 个可登录，{admins} 个可登录且可使用 sudo',
      'inventory.history.col.time': '时间',
      'inventory.history.col.event': '事项',
      'inventory.history.col.details': '详情',
      'inventory.history.loading': '正在加载历史',
      'inventory.history.none': '尚无变更记录。',
      'inventory.history.loadWhat': '历史记录',
      'inventory.history.latest': '最近 {n} 条变更，最新的在前',
      'inventory.history.count.one': '{n} 条变更，最新的在前',
      'inventory.history.count.many': '{n} 条变更，最新的在前',
      'inventory.kind.inventory': '完整清单',
      'inventory.kind.os_changed': '系统变更',
      'inventory.kind.package_installed': '安装软件包',
      'inventory.kind.package_removed': '卸载软件包',
      'inventory.kind.package_upgraded': '升级软件包',
      'inventory.kind.listener_opened': '新增监听',
      'inventory.kind.listener_closed': '关闭监听',
      'inventory.kind.account_added': '新增账号',
      'inventory.kind.account_removed': '删除账号',
      'inventory.kind.account_changed': '账号变更',
      'inventory.kind.alert': '告警',
      'inventory.kind.action': '操作',
      'inventory.kind.test': '测试'
    }
  });

  var PACKAGE_PAGE_SIZE = 200;
  var HISTORY_LIMIT = 100;

  /* ---------- packages tab ---------- */

  function packagesTab(view, hostId, panel, tab) {
    var query = '';
    var offset = 0;
    var total = null;
    var requestSeq = 0;

    var search = el('input', {
      id: 'package-search', type: 'search', placeholder: ww.t('inventory.packages.search'),
      'aria-label': ww.t('inventory.packages.searchLabel'), autocomplete: 'off', spellcheck: 'false'
    });
    var count = el('span', { className: 'info', id: 'packages-count' });
    var pager = offsetPager('packages', PACKAGE_PAGE_SIZE, function () {
      return { offset: offset, total: total };
    }, function (to) {
      offset = to;
      load();
    });
    var t = dataTable('packages-table', [
      { label: ww.t('inventory.packages.col.name') },
      { label: ww.t('inventory.packages.col.version') },
      { label: ww.t('inventory.packages.col.arch'), className: 'shrink' },
      { label: ww.t('inventory.packages.col.source') },
      { label: ww.t('inventory.packages.col.type'), className: 'shrink', title: ww.t('inventory.packages.col.typeTitle') }
    ]);
    loadingRow(t, ww.t('inventory.packages.loading'));
    append(panel, [
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'filter' }, search),
        count,
        el('span', { className: 'spacer' }),
        pager.node
      ]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    function sourceNode(p) {
      var src = p.source ? String(p.source) : '';
      var srcVer = p.source_version ? String(p.source_version) : '';
      if (!src && !srcVer) {
        return orDash('');
      }
      if (!src) {
        src = String(p.name);
      }
      var sameName = src === String(p.name);
      var sameVer = !srcVer || srcVer === String(p.version);
      if (sameName && sameVer) {
        return el('span', { className: 'muted' }, src);
      }
      return [src, sameVer ? null : el('span', { className: 'muted' }, ' ' + srcVer)];
    }

    function render(data) {
      var list = isArray(data.packages) ? data.packages : [];
      var frag = document.createDocumentFragment();
      var i, p;
      total = typeof data.total === 'number' ? data.total : list.length;
      for (i = 0; i < list.length; i++) {
        p = list[i];
        frag.appendChild(el('tr', { className: 'package-row', 'data-name': str(p.name) }, [
          el('td', { className: 'wrap' }, String(p.name)),
          el('td', { className: 'wrap mono' }, orDash(p.version)),
          el('td', { className: 'nowrap' }, orDash(p.arch)),
          el('td', { className: 'wrap' }, sourceNode(p)),
          el('td', { className: 'nowrap muted' }, orDash(p.ecosystem))
        ]));
      }
      fillTable(t, frag, list.length, query ?
        ww.t('inventory.packages.noMatch', { query: query }) :
        (offset > 0 ? ww.t('inventory.packages.noMore') : ww.t('inventory.packages.none')));
      /* The count in plain digits, not grouped. */
      setText(count, ww.t('inventory.packages.count', { n: list.length, total: total }));
      count.setAttribute('title', list.length ?
        ww.t(query ? 'inventory.packages.showingMatching' : 'inventory.packages.showing',
          { from: offset + 1, to: offset + list.length, total: total, query: query }) : '');
      pager.update(offset, total);
      if (!query) {
        setText(tab.count, formatCount(total));
      }
    }

    function load() {
      var seq = ++requestSeq;
      setClass(t.table, 'loading', true);
      api('GET', hostPath(hostId, '/packages' + encodeQuery({ q: query, limit: PACKAGE_PAGE_SIZE, offset: offset })), null,
        function (err, data) {
          if (!view.alive() || seq !== requestSeq) {
            return;
          }
          setClass(t.table, 'loading', false);
          if (err) {
            showError(ww.t('inventory.packages.loadError', { error: err.message }));
            if (total === null) {
              messageRow(t.tbody, t.columns, ww.t('inventory.packages.loadFailed'), 'placeholder-row');
            }
            return;
          }
          /* The list shrank under the current page: go back to the last page. */
          if (offset > 0 && isArray(data.packages) && data.packages.length === 0 &&
              typeof data.total === 'number' && data.total > 0 && offset >= data.total) {
            offset = lastPageOffset(data.total, PACKAGE_PAGE_SIZE);
            load();
            return;
          }
          render(data);
        });
    }

    onTyping(view, search, SEARCH_DELAY_MS, function () {
      var q = trim(search.value);
      if (q === query) {
        return;
      }
      query = q;
      offset = 0;
      load();
    }, true);

    return { activate: load };
  }

  /* ---------- listening services tab ---------- */

  var WILDCARD_ADDRESSES = { '0.0.0.0': true, '::': true, '[::]': true, '*': true, '': true };

  function listenersTab(view, hostId, panel, tab) {
    var count = el('span', { className: 'info', id: 'listeners-count' });
    var t = dataTable('listeners-table', [
      { label: ww.t('inventory.listeners.col.protocol'), className: 'shrink' },
      { label: ww.t('inventory.listeners.col.address') },
      { label: ww.t('inventory.listeners.col.port'), className: 'num shrink' },
      { label: ww.t('inventory.listeners.col.process') },
      { label: ww.t('inventory.listeners.col.pid'), className: 'num shrink' }
    ]);
    loadingRow(t, ww.t('inventory.listeners.loading'));
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, ww.t('inventory.listeners.legend'))
    ]);

    function render(list) {
      var i, l, exposed, addr, frag = document.createDocumentFragment(), exposedCount = 0;
      list = list.slice(0);
      list.sort(function (a, b) {
        if ((a.port || 0) !== (b.port || 0)) {
          return (a.port || 0) - (b.port || 0);
        }
        return str(a.protocol) < str(b.protocol) ? -1 : (str(a.protocol) > str(b.protocol) ? 1 : 0);
      });
      for (i = 0; i < list.length; i++) {
        l = list[i];
        addr = str(l.address);
        exposed = WILDCARD_ADDRESSES[addr] === true;
        if (exposed) {
          exposedCount += 1;
        }
        frag.appendChild(el('tr', {
          className: 'listener-row' + (exposed ? ' listener-exposed' : ''),
          'data-port': str(l.port), 'data-protocol': str(l.protocol)
        }, [
          el('td', { className: 'nowrap' }, str(l.protocol)),
          el('td', { className: 'mono addr-cell wrap', title: exposed ? ww.t('inventory.listeners.allInterfaces') : null }, orDash(addr)),
          el('td', { className: 'num' }, str(l.port)),
          el('td', { className: 'wrap' }, orDash(l.process)),
          el('td', { className: 'num' }, orDash(l.pid))
        ]));
      }
      fillTable(t, frag, list.length, ww.t('inventory.listeners.none'));
      setText(count, ww.t(list.length === 1 ? 'inventory.listeners.count.one' : 'inventory.listeners.count.many',
        { n: formatCount(list.length) }) +
        (exposedCount ? ww.t('inventory.listeners.exposed', { n: formatCount(exposedCount) }) : ''));
      setText(tab.count, formatCount(list.length));
      show(tab.count, true);
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/listeners'), ww.t('inventory.listeners.loadWhat'), t, function (data) {
        render(isArray(data.listeners) ? data.listeners : []);
      })
    };
  }

  /* ---------- accounts tab ---------- */

  function accountsTab(view, hostId, panel, tab) {
    var count = el('span', { className: 'info', id: 'accounts-count' });
    var t = dataTable('accounts-table', [
      { label: ww.t('inventory.accounts.col.name') },
      { label: ww.t('inventory.accounts.col.uid'), className: 'num shrink' },
      { label: ww.t('inventory.accounts.col.gid'), className: 'num shrink' },
      { label: ww.t('inventory.accounts.col.home') },
      { label: ww.t('inventory.accounts.col.shell') },
      { label: ww.t('inventory.accounts.col.login'), className: 'shrink', title: ww.t('inventory.accounts.col.loginTitle') },
      { label: ww.t('inventory.accounts.col.sudo'), className: 'shrink', title: ww.t('inventory.accounts.col.sudoTitle') }
    ]);
    loadingRow(t, ww.t('inventory.accounts.loading'));
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, [el('span', { className: 'swatch' }),
        ww.t('inventory.accounts.legend')])
    ]);

    function render(list) {
      var i, a, privileged, frag = document.createDocumentFragment();
      var logins = 0, admins = 0;
      for (i = 0; i < list.length; i++) {
        a = list[i];
        privileged = !!(a.login && a.sudo);
        if (a.login) {
          logins += 1;
        }
        if (privileged) {
          admins += 1;
        }
        frag.appendChild(el('tr', {
          className: 'account-row' + (privileged ? ' account-privileged' : ''),
          'data-name': str(a.name)
        }, [
          el('td', { className: 'wrap' }, [el('span', { className: 'mono' }, str(a.name)),
            privileged ? el('span', { className: 'flag', title: ww.t('inventory.accounts.adminTitle') }, ww.t('inventory.accounts.admin')) : null]),
          el('td', { className: 'num' }, str(a.uid)),
          el('td', { className: 'num' }, str(a.gid)),
          el('td', { className: 'mono wrap' }, orDash(a.home)),
          el('td', { className: 'mono wrap' }, orDash(a.shell)),
          el('td', null, yesNo(a.login)),
          el('td', null, yesNo(a.sudo))
        ]));
      }
      fillTable(t, frag, list.length, ww.t('inventory.accounts.none'));
      setText(count, ww.t(list.length === 1 ? 'inventory.accounts.count.one' : 'inventory.accounts.count.many',
        { n: formatCount(list.length), logins: formatCount(logins), admins: formatCount(admins) }));
      setText(tab.count, formatCount(list.length));
      show(tab.count, true);
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/accounts'), ww.t('inventory.accounts.loadWhat'), t, function (data) {
        render(isArray(data.accounts) ? data.accounts : []);
      })
    };
  }

  /* ---------- history tab ---------- */

  function kindClass(kind) {
    if (/_(installed|added|opened)$/.test(kind)) {
      return 'kind kind-added';
    }
    if (/_(removed|closed)$/.test(kind)) {
      return 'kind kind-removed';
    }
    if (/_(upgraded|changed)$/.test(kind)) {
      return 'kind kind-changed';
    }
    if (kind === 'alert') {
      return 'kind kind-alert';
    }
    return 'kind';
  }

  /* An event kind for display ("package installed"); a kind this console does not know
     is shown as it came, with spaces for underscores. */
  function kindText(kind) {
    return Object.prototype.hasOwnProperty.call(ww.i18n.words.en, 'inventory.kind.' + kind) ?
      ww.t('inventory.kind.' + kind) : kind.replace(/_/g, ' ');
  }

  function historyTab(view, hostId, panel) {
    var count = el('span', { className: 'info', id: 'history-count' });
    var t = dataTable('history-table', [
      { label: ww.t('inventory.history.col.time'), className: 'shrink' },
      { label: ww.t('inventory.history.col.event'), className: 'shrink' },
      { label: ww.t('inventory.history.col.details') }
    ]);
    loadingRow(t, ww.t('inventory.history.loading'));
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table)
    ]);

    function render(list) {
      var i, e, kind, frag = document.createDocumentFragment();
      for (i = 0; i < list.length; i++) {
        e = list[i];
        kind = str(e.kind);
        frag.appendChild(el('tr', { className: 'history-row', 'data-seq': str(e.seq), 'data-kind': kind }, [
          el('td', { className: 'shrink' }, e.time === null || e.time === undefined ? orDash('') : dateAndAgoNodes(e.time)),
          el('td', { className: 'shrink' }, el('span', { className: kindClass(kind) }, kindText(kind))),
          el('td', { className: 'wrap' }, orDash(e.summary))
        ]));
      }
      fillTable(t, frag, list.length, ww.t('inventory.history.none'));
      setText(count, list.length >= HISTORY_LIMIT ?
        ww.t('inventory.history.latest', { n: formatCount(HISTORY_LIMIT) }) :
        ww.t(list.length === 1 ? 'inventory.history.count.one' : 'inventory.history.count.many', { n: formatCount(list.length) }));
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/history' + encodeQuery({ limit: HISTORY_LIMIT })), ww.t('inventory.history.loadWhat'), t, function (data) {
        render(isArray(data.events) ? data.events : []);
      })
    };
  }

  ww.hostTabs.packages = packagesTab;
  ww.hostTabs.listeners = listenersTab;
  ww.hostTabs.accounts = accountsTab;
  ww.hostTabs.history = historyTab;
}(wardwatch));
