/*
 * wardwatch console, host-findings.js: the host page's Vulnerabilities tab: the host's
 * findings (open first, then accepted, then fixed) and their history.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, setText = ww.setText, show = ww.show, setClass = ww.setClass;
  var isArray = ww.isArray, str = ww.str, plural = ww.plural, dateCell = ww.dateCell;
  var hostPath = ww.hostPath, encodeQuery = ww.encodeQuery, dataTable = ww.dataTable;
  var loadingRow = ww.loadingRow, fillTable = ww.fillTable, tableLoader = ww.tableLoader;

  var vuln = ww.vuln;
  var STATE_RANK = vuln.STATE_RANK, findingState = vuln.findingState, advisoryLink = vuln.advisoryLink;
  var versionChange = vuln.versionChange, stateCell = vuln.stateCell, priorityCell = vuln.priorityCell;
  var advisoryCell = vuln.advisoryCell, packageCell = vuln.packageCell;


  function findingsTab(view, hostId, panel, tab) {
    var count = el('span', { className: 'info', id: 'host-findings-count' });
    var t = dataTable('host-findings', [
      { label: 'State', className: 'shrink' },
      { label: 'Priority', className: 'shrink' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Installed \u2192 fixed' },
      { label: 'Why', title: 'The feed record, range and comparison that produced the finding' }
    ]);
    loadingRow(t, 'Loading findings');
    var h = dataTable('host-finding-history', [
      { label: 'Time', className: 'shrink' },
      { label: 'Change', className: 'shrink' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Version' },
      { label: 'Cause', className: 'shrink', title: 'What changed: the host\u2019s packages or the vulnerability feed' }
    ]);
    loadingRow(h, 'Loading');
    append(panel, [
      el('div', { className: 'toolbar' }, [count, el('span', { className: 'spacer' }),
        el('a', { className: 'btn btn-small', id: 'host-findings-export', href: '/api/vuln/findings' + encodeQuery({ host: hostId, state: 'all', format: 'csv' }),
          title: 'Every finding of this host as a CSV file' }, 'Download CSV')]),
      el('div', { className: 'table-wrap' }, t.table),
      el('h2', { className: 'panel-heading' }, 'Finding history'),
      el('div', { className: 'table-wrap' }, h.table),
      el('p', { className: 'legend' }, 'The latest changes, newest first. Open findings come first above; accepted risks are hidden from the fleet counts until they expire.')
    ]);

    function render(data) {
      var list = isArray(data.findings) ? data.findings.slice(0) : [];
      var history = isArray(data.history) ? data.history : [];
      var frag = document.createDocumentFragment();
      var k, f, s, e, open = 0, urgent = 0, accepted = 0, fixed = 0;
      /* Open first, then accepted, then fixed; the server's urgency order within each. */
      for (k = 0; k < list.length; k++) {
        list[k] = { f: list[k] || {}, i: k };
      }
      list.sort(function (a, b) {
        var d = STATE_RANK[findingState(a.f)] - STATE_RANK[findingState(b.f)];
        return d !== 0 ? d : a.i - b.i;
      });
      for (k = 0; k < list.length; k++) {
        f = list[k].f;
        s = findingState(f);
        if (s === 'open') {
          open += 1;
          if (f.priority === 'ransomware' || f.priority === 'exploited') {
            urgent += 1;
          }
        } else if (s === 'accepted') {
          accepted += 1;
        } else {
          fixed += 1;
        }
        frag.appendChild(el('tr', {
          className: 'host-finding-row finding-' + s + (f.ransomware && s === 'open' ? ' finding-ransomware' : ''),
          'data-advisory': str(f.advisory), 'data-package': str(f.package), 'data-state': s, 'data-priority': str(f.priority)
        }, [
          el('td', { className: 'nowrap' }, stateCell(f, s)),
          el('td', { className: 'nowrap' }, priorityCell(f)),
          el('td', { className: 'wrap' }, advisoryCell(f)),
          el('td', { className: 'wrap' }, packageCell(f)),
          el('td', { className: 'wrap' }, versionChange(f)),
          el('td', { className: 'wrap small why' }, str(f.why))
        ]));
      }
      fillTable(t, frag, list.length, 'No findings: the feed lists no vulnerability for this host\u2019s packages.');
      setText(count, plural(open, 'open finding', 'open findings') + (urgent ? ', ' + urgent + ' known exploited' : '') +
        ', ' + accepted + ' accepted, ' + fixed + ' fixed');
      setText(tab.count, String(open));
      setClass(tab.count, 'count-urgent', urgent > 0);
      show(tab.count, true);

      frag = document.createDocumentFragment();
      for (k = 0; k < history.length; k++) {
        e = history[k] || {};
        frag.appendChild(el('tr', { className: 'finding-history-row', 'data-advisory': str(e.advisory), 'data-change': str(e.change) }, [
          el('td', { className: 'nowrap' }, dateCell(e.time)),
          el('td', { className: 'nowrap' }, el('span', { className: e.change === 'fixed' ? 'kind kind-added' : (e.change === 'appeared' ? 'kind kind-removed' : 'kind') }, str(e.change))),
          el('td', { className: 'wrap' }, advisoryLink(e.advisory)),
          el('td', { className: 'wrap mono' }, str(e.package)),
          el('td', { className: 'wrap mono' }, str(e.version)),
          el('td', { className: 'nowrap muted' }, e.cause === 'inventory' ? 'package change' : (e.cause === 'feed' ? 'feed update' : str(e.cause)))
        ]));
      }
      fillTable(h, frag, history.length, 'No finding has appeared or been fixed yet.');
    }

    return { activate: tableLoader(view, hostPath(hostId, '/findings'), 'findings', t, render) };
  }

  ww.hostTabs.findings = findingsTab;
}(wardwatch));
