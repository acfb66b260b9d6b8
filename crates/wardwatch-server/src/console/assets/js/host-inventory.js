/*
 * wardwatch console, host-inventory.js: the host page's inventory tabs, as the agent
 * reports them: installed packages (searched and paged on the server), listening
 * services, accounts, and the history of changes.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, setText = ww.setText, show = ww.show, setClass = ww.setClass;
  var isArray = ww.isArray, orDash = ww.orDash, str = ww.str, trim = ww.trim, plural = ww.plural;
  var formatCount = ww.formatCount, yesNo = ww.yesNo, dateAndAgoNodes = ww.dateAndAgoNodes;
  var api = ww.api, hostPath = ww.hostPath, encodeQuery = ww.encodeQuery, showError = ww.showError;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, tableLoader = ww.tableLoader, onTyping = ww.onTyping;
  var offsetPager = ww.offsetPager, lastPageOffset = ww.lastPageOffset;
  var EN_DASH = ww.EN_DASH, SEARCH_DELAY_MS = ww.SEARCH_DELAY_MS;

  var PACKAGE_PAGE_SIZE = 200;
  var HISTORY_LIMIT = 100;

  /* ---------- packages tab ---------- */

  function packagesTab(view, hostId, panel, tab) {
    var query = '';
    var offset = 0;
    var total = null;
    var requestSeq = 0;

    var search = el('input', {
      id: 'package-search', type: 'search', placeholder: 'Search packages (name or source)',
      'aria-label': 'Search packages', autocomplete: 'off', spellcheck: 'false'
    });
    var count = el('span', { className: 'info', id: 'packages-count' });
    var pager = offsetPager('packages', PACKAGE_PAGE_SIZE, function () {
      return { offset: offset, total: total };
    }, function (to) {
      offset = to;
      load();
    });
    var t = dataTable('packages-table', [
      { label: 'Name' },
      { label: 'Version' },
      { label: 'Arch', className: 'shrink' },
      { label: 'Source' },
      { label: 'Type', className: 'shrink', title: 'Package database' }
    ]);
    loadingRow(t, 'Loading packages');
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
        'No package matches \u201c' + query + '\u201d.' :
        (offset > 0 ? 'No more packages.' : 'This host has not reported any packages yet.'));
      setText(count, list.length + ' of ' + total);
      count.setAttribute('title', list.length ?
        'Showing packages ' + (offset + 1) + EN_DASH + (offset + list.length) + ' of ' + total +
          (query ? ' matching \u201c' + query + '\u201d' : '') : '');
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
            showError('Could not load the packages: ' + err.message);
            if (total === null) {
              messageRow(t.tbody, t.columns, 'The packages could not be loaded.', 'placeholder-row');
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
      { label: 'Protocol', className: 'shrink' },
      { label: 'Address' },
      { label: 'Port', className: 'num shrink' },
      { label: 'Process' },
      { label: 'PID', className: 'num shrink' }
    ]);
    loadingRow(t, 'Loading listening services');
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, 'Addresses in bold listen on all network interfaces, so other machines can reach them.')
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
          el('td', { className: 'mono addr-cell wrap', title: exposed ? 'All interfaces' : null }, orDash(addr)),
          el('td', { className: 'num' }, str(l.port)),
          el('td', { className: 'wrap' }, orDash(l.process)),
          el('td', { className: 'num' }, orDash(l.pid))
        ]));
      }
      fillTable(t, frag, list.length, 'No listening services reported.');
      setText(count, plural(list.length, 'listening socket', 'listening sockets') +
        (exposedCount ? ', ' + exposedCount + ' on all interfaces' : ''));
      setText(tab.count, String(list.length));
      show(tab.count, true);
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/listeners'), 'listening services', t, function (data) {
        render(isArray(data.listeners) ? data.listeners : []);
      })
    };
  }

  /* ---------- accounts tab ---------- */

  function accountsTab(view, hostId, panel, tab) {
    var count = el('span', { className: 'info', id: 'accounts-count' });
    var t = dataTable('accounts-table', [
      { label: 'Name' },
      { label: 'UID', className: 'num shrink' },
      { label: 'GID', className: 'num shrink' },
      { label: 'Home' },
      { label: 'Shell' },
      { label: 'Login', className: 'shrink', title: 'The shell lets the account log in' },
      { label: 'Sudo', className: 'shrink', title: 'The account may run commands as root through sudo' }
    ]);
    loadingRow(t, 'Loading accounts');
    append(panel, [
      el('div', { className: 'toolbar' }, [count]),
      el('div', { className: 'table-wrap' }, t.table),
      el('p', { className: 'legend' }, [el('span', { className: 'swatch' }),
        'Highlighted: accounts that can log in and use sudo (administrators).'])
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
            privileged ? el('span', { className: 'flag', title: 'Can log in and use sudo' }, 'admin') : null]),
          el('td', { className: 'num' }, str(a.uid)),
          el('td', { className: 'num' }, str(a.gid)),
          el('td', { className: 'mono wrap' }, orDash(a.home)),
          el('td', { className: 'mono wrap' }, orDash(a.shell)),
          el('td', null, yesNo(a.login)),
          el('td', null, yesNo(a.sudo))
        ]));
      }
      fillTable(t, frag, list.length, 'No accounts reported.');
      setText(count, plural(list.length, 'account', 'accounts') + ', ' + logins + ' can log in, ' +
        admins + ' can log in and use sudo');
      setText(tab.count, String(list.length));
      show(tab.count, true);
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/accounts'), 'accounts', t, function (data) {
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

  function historyTab(view, hostId, panel) {
    var count = el('span', { className: 'info', id: 'history-count' });
    var t = dataTable('history-table', [
      { label: 'Time', className: 'shrink' },
      { label: 'Event', className: 'shrink' },
      { label: 'Details' }
    ]);
    loadingRow(t, 'Loading history');
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
          el('td', { className: 'shrink' }, el('span', { className: kindClass(kind) }, kind.replace(/_/g, ' '))),
          el('td', { className: 'wrap' }, orDash(e.summary))
        ]));
      }
      fillTable(t, frag, list.length, 'No changes recorded yet.');
      setText(count, list.length >= HISTORY_LIMIT ?
        'The latest ' + HISTORY_LIMIT + ' changes, newest first' :
        plural(list.length, 'change', 'changes') + ', newest first');
    }

    return {
      activate: tableLoader(view, hostPath(hostId, '/history' + encodeQuery({ limit: HISTORY_LIMIT })), 'history', t, function (data) {
        render(isArray(data.events) ? data.events : []);
      })
    };
  }

  ww.hostTabs.packages = packagesTab;
  ww.hostTabs.listeners = listenersTab;
  ww.hostTabs.accounts = accountsTab;
  ww.hostTabs.history = historyTab;
}(wardwatch));
