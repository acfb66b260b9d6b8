/*
 * wardwatch console, host-findings.js: the host page's Vulnerabilities tab: the host's
 * findings (open first, then accepted, then fixed) and their history.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, setText = ww.setText, show = ww.show, setClass = ww.setClass;
  var isArray = ww.isArray, str = ww.str, formatCount = ww.formatCount, dateCell = ww.dateCell;
  var hostPath = ww.hostPath, encodeQuery = ww.encodeQuery, dataTable = ww.dataTable;
  var loadingRow = ww.loadingRow, fillTable = ww.fillTable, tableLoader = ww.tableLoader;

  var vuln = ww.vuln;
  var STATE_RANK = vuln.STATE_RANK, findingState = vuln.findingState, advisoryLink = vuln.advisoryLink;
  var versionChange = vuln.versionChange, stateCell = vuln.stateCell, priorityCell = vuln.priorityCell;
  var advisoryCell = vuln.advisoryCell, packageCell = vuln.packageCell;

  ww.i18n.add({
    en: {
      'hostFindings.col.state': 'State',
      'hostFindings.col.priority': 'Priority',
      'hostFindings.col.advisory': 'Advisory',
      'hostFindings.col.package': 'Package',
      'hostFindings.col.installedFixed': 'Installed \u2192 fixed',
      'hostFindings.col.why': 'Why',
      'hostFindings.col.whyTitle': 'The feed record, range and comparison that produced the finding',
      'hostFindings.loading': 'Loading findings',
      'hostFindings.col.time': 'Time',
      'hostFindings.col.change': 'Change',
      'hostFindings.col.version': 'Version',
      'hostFindings.col.cause': 'Cause',
      'hostFindings.col.causeTitle': 'What changed: the host\u2019s packages or the vulnerability feed',
      'hostFindings.historyLoading': 'Loading',
      'hostFindings.exportTitle': 'Every finding of this host as a CSV file',
      'hostFindings.export': 'Download CSV',
      'hostFindings.history': 'Finding history',
      'hostFindings.legend': 'The latest changes, newest first. Open findings come first above; accepted risks are hidden from the fleet counts until they expire.',
      'hostFindings.none': 'No findings: the feed lists no vulnerability for this host\u2019s packages.',
      'hostFindings.count.one': '{n} open finding',
      'hostFindings.count.many': '{n} open findings',
      'hostFindings.count.urgent': ', {n} known exploited',
      'hostFindings.count.rest': ', {accepted} accepted, {fixed} fixed',
      'hostFindings.change.appeared': 'appeared',
      'hostFindings.change.fixed': 'fixed',
      'hostFindings.cause.inventory': 'package change',
      'hostFindings.cause.feed': 'feed update',
      'hostFindings.historyNone': 'No finding has appeared or been fixed yet.',
      'hostFindings.loadWhat': 'findings'
    },
    zh: {
      'hostFindings.col.state': '状态',
      'hostFindings.col.priority': '优先级',
      'hostFindings.col.advisory': '安全公告',
      'hostFindings.col.package': '软件包',
      'hostFindings.col.installedFixed': '已安装 → 修复版本',
      'hostFindings.col.why': '依据',
      'hostFindings.col.whyTitle': '产生该漏洞项的漏洞库记录、版本范围和比较结果',
      'hostFindings.loading': '正在加载漏洞项',
      'hostFindings.col.time': '时间',
      'hostFindings.col.change': '变化',
      'hostFindings.col.version': '版本',
      'hostFindings.col.cause': '原因',
      'hostFindings.col.causeTitle': '变化来源：终端的软件包或漏洞库',
      'hostFindings.historyLoading': '正在加载',
      'hostFindings.exportTitle': '将该终端的全部漏洞项导出为 CSV 文件',
      'hostFindings.export': '下载 CSV',
      'hostFindings.history': '漏洞项历史',
      'hostFindings.legend': '最近的变化，最新的在前。上表中未修复的漏洞项排在最前；已接受的风险在到期前不计入全网统计。',
      'hostFindings.none': '没有漏洞项：漏洞库中没有涉及该终端软件包的漏洞。',
      'hostFindings.count.one': '{n} 个未修复漏洞项',
      'hostFindings.count.many': '{n} 个未修复漏洞项',
      'hostFindings.count.urgent': '，其中 {n} 个已知被利用',
      'hostFindings.count.rest': '，{accepted} 个已接受风险，{fixed} 个已修复',
      'hostFindings.change.appeared': '出现',
      'hostFindings.change.fixed': '已修复',
      'hostFindings.cause.inventory': '软件包变化',
      'hostFindings.cause.feed': '漏洞库更新',
      'hostFindings.historyNone': '尚无漏洞项出现或被修复。',
      'hostFindings.loadWhat': '漏洞项'
    }
  });


  function findingsTab(view, hostId, panel, tab) {
    var count = el('span', { className: 'info', id: 'host-findings-count' });
    var t = dataTable('host-findings', [
      { label: ww.t('hostFindings.col.state'), className: 'shrink' },
      { label: ww.t('hostFindings.col.priority'), className: 'shrink' },
      { label: ww.t('hostFindings.col.advisory') },
      { label: ww.t('hostFindings.col.package') },
      { label: ww.t('hostFindings.col.installedFixed') },
      { label: ww.t('hostFindings.col.why'), title: ww.t('hostFindings.col.whyTitle') }
    ]);
    loadingRow(t, ww.t('hostFindings.loading'));
    var h = dataTable('host-finding-history', [
      { label: ww.t('hostFindings.col.time'), className: 'shrink' },
      { label: ww.t('hostFindings.col.change'), className: 'shrink' },
      { label: ww.t('hostFindings.col.advisory') },
      { label: ww.t('hostFindings.col.package') },
      { label: ww.t('hostFindings.col.version') },
      { label: ww.t('hostFindings.col.cause'), className: 'shrink', title: ww.t('hostFindings.col.causeTitle') }
    ]);
    loadingRow(h, ww.t('hostFindings.historyLoading'));
    append(panel, [
      el('div', { className: 'toolbar' }, [count, el('span', { className: 'spacer' }),
        el('a', { className: 'btn btn-small', id: 'host-findings-export', href: '/api/vuln/findings' + encodeQuery({ host: hostId, state: 'all', format: 'csv' }),
          title: ww.t('hostFindings.exportTitle') }, ww.t('hostFindings.export'))]),
      el('div', { className: 'table-wrap' }, t.table),
      el('h2', { className: 'panel-heading' }, ww.t('hostFindings.history')),
      el('div', { className: 'table-wrap' }, h.table),
      el('p', { className: 'legend' }, ww.t('hostFindings.legend'))
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
      fillTable(t, frag, list.length, ww.t('hostFindings.none'));
      setText(count, ww.t(open === 1 ? 'hostFindings.count.one' : 'hostFindings.count.many', { n: formatCount(open) }) +
        (urgent ? ww.t('hostFindings.count.urgent', { n: formatCount(urgent) }) : '') +
        ww.t('hostFindings.count.rest', { accepted: formatCount(accepted), fixed: formatCount(fixed) }));
      setText(tab.count, formatCount(open));
      setClass(tab.count, 'count-urgent', urgent > 0);
      show(tab.count, true);

      frag = document.createDocumentFragment();
      for (k = 0; k < history.length; k++) {
        e = history[k] || {};
        frag.appendChild(el('tr', { className: 'finding-history-row', 'data-advisory': str(e.advisory), 'data-change': str(e.change) }, [
          el('td', { className: 'nowrap' }, dateCell(e.time)),
          el('td', { className: 'nowrap' }, el('span', { className: e.change === 'fixed' ? 'kind kind-added' : (e.change === 'appeared' ? 'kind kind-removed' : 'kind') },
            e.change === 'appeared' || e.change === 'fixed' ? ww.t('hostFindings.change.' + e.change) : str(e.change))),
          el('td', { className: 'wrap' }, advisoryLink(e.advisory)),
          el('td', { className: 'wrap mono' }, str(e.package)),
          el('td', { className: 'wrap mono' }, str(e.version)),
          el('td', { className: 'nowrap muted' }, e.cause === 'inventory' || e.cause === 'feed' ? ww.t('hostFindings.cause.' + e.cause) : str(e.cause))
        ]));
      }
      fillTable(h, frag, history.length, ww.t('hostFindings.historyNone'));
    }

    return { activate: tableLoader(view, hostPath(hostId, '/findings'), ww.t('hostFindings.loadWhat'), t, render) };
  }

  ww.hostTabs.findings = findingsTab;
}(wardwatch));
