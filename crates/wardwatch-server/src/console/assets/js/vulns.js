/*
 * wardwatch console, vulns.js: the vulnerabilities of the fleet (#/vulns): the feed in
 * use, findings by priority and by department, the upgrades that remove the most risk,
 * hosts past their operating system's end of life, the filtered and paged list of
 * findings with its downloads, and the accepted risks in force.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var setClass = ww.setClass, closestWithClass = ww.closestWithClass, isArray = ww.isArray;
  var orDash = ww.orDash, str = ww.str, formatCount = ww.formatCount;
  var timeNode = ww.timeNode, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, beginView = ww.beginView, setTitle = ww.setTitle, state = ww.state;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, offsetPager = ww.offsetPager, lastPageOffset = ww.lastPageOffset;
  var ELLIPSIS = ww.ELLIPSIS, REFRESH_MS = ww.REFRESH_MS;

  var vuln = ww.vuln;
  var PRIORITIES = vuln.PRIORITIES, FINDING_STATES = vuln.FINDING_STATES;
  var priorityTitle = vuln.priorityTitle, priorityHint = vuln.priorityHint;
  var findingStateTitle = vuln.findingStateTitle, stateTitle = vuln.stateTitle, wordNodes = vuln.wordNodes;
  var FINDING_PAGE_SIZE = vuln.FINDING_PAGE_SIZE, findingState = vuln.findingState;
  var advisoryLink = vuln.advisoryLink, versionChange = vuln.versionChange, hostCell = vuln.hostCell;
  var suppressionTable = vuln.suppressionTable, liftSuppression = vuln.liftSuppression;
  var selectBox = vuln.selectBox, advisorySearchForm = vuln.advisorySearchForm;
  var stateCell = vuln.stateCell, priorityCell = vuln.priorityCell, advisoryCell = vuln.advisoryCell;
  var packageCell = vuln.packageCell;

  ww.i18n.add({
    en: {
      'vulns.title': 'Vulnerabilities',
      'vulns.loadingFeed': 'Loading the feed status',
      'vulns.loading': 'Loading',
      'vulns.loadingFindings': 'Loading findings',
      'vulns.col.department': 'Department',
      'vulns.col.hosts': 'Hosts',
      'vulns.col.withFindings': 'With findings',
      'vulns.col.withFindingsTitle': 'Hosts with open findings',
      'vulns.col.package': 'Package',
      'vulns.col.packageTitle': 'Source package',
      'vulns.col.upgradeTo': 'Upgrade to',
      'vulns.col.upgradeToTitle': 'This version or later removes every finding counted here',
      'vulns.col.findings': 'Findings',
      'vulns.col.findingsTitle': 'Open findings (per host and advisory) the upgrade removes',
      'vulns.col.advisories': 'Advisories',
      'vulns.col.ransomware': 'Ransomware',
      'vulns.col.ransomwareTitle': 'Of those, used by ransomware campaigns',
      'vulns.col.exploited': 'Exploited',
      'vulns.col.exploitedTitle': 'Of those, in CISA\u2019s KEV catalog',
      'vulns.col.host': 'Host',
      'vulns.col.os': 'Operating system',
      'vulns.col.remedy': 'Remedy',
      'vulns.col.advisory': 'Advisory',
      'vulns.col.priority': 'Priority',
      'vulns.col.installedFixed': 'Installed \u2192 fixed',
      'vulns.col.firstSeen': 'First seen',
      'vulns.col.state': 'State',
      'vulns.everyPriority': 'Every priority',
      'vulns.everyDepartment': 'Every department',
      'vulns.exportCsvTitle': 'Every matching finding as a CSV file',
      'vulns.exportJsonTitle': 'Every matching finding as a JSON file',
      'vulns.download': 'Download ',
      'vulns.upgrades': 'Upgrades that remove the most risk',
      'vulns.upgradesNote': 'Ranked by the risk removed: one finding used by ransomware outweighs any number of ordinary ones.',
      'vulns.byDepartment': 'By department',
      'vulns.byDepartmentNote': 'Open findings, counted once per host and advisory. Click a department to list its findings.',
      'vulns.eol': 'Operating systems past their end of life',
      'vulns.findings': 'Findings',
      'vulns.findingsNote': 'Most urgent first: used by ransomware, then known exploited, then likely to be exploited (EPSS), then severity. One row per installed package.',
      'vulns.suppressions': 'Accepted risks',
      'vulns.noFeed': 'No vulnerability feed is in use.',
      'vulns.feedMissing': 'No vulnerability feed is installed, so no host is checked. Import a vulnerability data bundle on the {link} page.',
      'vulns.bundlesLink': 'Bundles',
      'vulns.feedVersion': 'Feed version {v}',
      'vulns.feedLine': '{version} \u2014 {advisories}, {kev}, loaded {loaded}. {match}',
      'vulns.advisory.one': '{n} advisory',
      'vulns.advisory.many': '{n} advisories',
      'vulns.kev.one': '{n} KEV entry',
      'vulns.kev.many': '{n} KEV entries',
      'vulns.host.one': '{n} host',
      'vulns.host.many': '{n} hosts',
      'vulns.finding.one': '{n} finding',
      'vulns.finding.many': '{n} findings',
      'vulns.lastMatch': 'Last full re-match: {time} (version {v}, {hosts}, {appeared} appeared, {fixed} fixed, {open} open, {ms} ms).',
      'vulns.notMatched': 'The fleet has not been re-matched yet.',
      'vulns.feedError': 'The newest installed feed is not in use: {error}',
      'vulns.feedErrorStill': 'The newest installed feed is not in use (version {v} still is): {error}',
      'vulns.prioCardTitle': '{hint}. Click to list these findings.',
      'vulns.totals': '{matched} of {hosts} checked against the feed, {withFindings} with open findings; {suppressed} hidden by accepted risks. Counts are of open findings, once per host and advisory.',
      'vulns.noDepartment': 'none',
      'vulns.noHosts': 'No hosts have enrolled yet.',
      'vulns.noUpgrades': 'No open finding has a fixed version to upgrade to.',
      'vulns.acceptedFlag': 'accepted',
      'vulns.noEol': 'Every host runs a supported operating system.',
      'vulns.summaryFailed': 'Could not load the vulnerability summary: {error}',
      'vulns.findingsFailed': 'Could not load the findings: {error}',
      'vulns.findingsNotLoaded': 'The findings could not be loaded.',
      'vulns.noMatch': 'No finding matches the filters.',
      'vulns.noOpen': 'No open findings. Every host is up to date with the feed, or its risks are accepted.',
      'vulns.range': '{from}\u2013{to} of {total}',
      'vulns.suppressionsFailed': 'Could not load the accepted risks: {error}',
      'vulns.noSuppressions': 'No accepted risks are in force.'
    },
    zh: {
      'vulns.title': '漏洞',
      'vulns.loadingFeed': '正在加载漏洞库状态',
      'vulns.loading': '正在加载',
      'vulns.loadingFindings': '正在加载漏洞项',
      'vulns.col.department': '科室',
      'vulns.col.hosts': '终端',
      'vulns.col.withFindings': '有漏洞项',
      'vulns.col.withFindingsTitle': '有未修复漏洞项的终端',
      'vulns.col.package': '软件包',
      'vulns.col.packageTitle': '源码包',
      'vulns.col.upgradeTo': '升级到',
      'vulns.col.upgradeToTitle': '升级到此版本或更高版本，可消除此处统计的全部漏洞项',
      'vulns.col.findings': '漏洞项',
      'vulns.col.findingsTitle': '升级可消除的未修复漏洞项（按终端和公告计）',
      'vulns.col.advisories': '安全公告',
      'vulns.col.ransomware': '勒索软件',
      'vulns.col.ransomwareTitle': '其中被勒索软件攻击利用的',
      'vulns.col.exploited': '已被利用',
      'vulns.col.exploitedTitle': '其中列入 CISA KEV 目录的',
      'vulns.col.host': '终端',
      'vulns.col.os': '操作系统',
      'vulns.col.remedy': '处置办法',
      'vulns.col.advisory': '安全公告',
      'vulns.col.priority': '优先级',
      'vulns.col.installedFixed': '已安装 → 修复版本',
      'vulns.col.firstSeen': '首次发现',
      'vulns.col.state': '状态',
      'vulns.everyPriority': '全部优先级',
      'vulns.everyDepartment': '全部科室',
      'vulns.exportCsvTitle': '将所有符合条件的漏洞项导出为 CSV 文件',
      'vulns.exportJsonTitle': '将所有符合条件的漏洞项导出为 JSON 文件',
      'vulns.download': '下载 ',
      'vulns.upgrades': '消除风险最多的升级',
      'vulns.upgradesNote': '按消除的风险排序：一个被勒索软件利用的漏洞项，比任意数量的普通漏洞项更重要。',
      'vulns.byDepartment': '按科室',
      'vulns.byDepartmentNote': '未修复漏洞项，每个终端每个公告计一次。点击科室可列出其漏洞项。',
      'vulns.eol': '已停止支持的操作系统',
      'vulns.findings': '漏洞项',
      'vulns.findingsNote': '最紧急的排在最前：依次为被勒索软件利用、已知被利用、可能被利用（EPSS）、按严重程度。每个已安装的软件包一行。',
      'vulns.suppressions': '已接受的风险',
      'vulns.noFeed': '未使用漏洞库。',
      'vulns.feedMissing': '尚未安装漏洞库，因此没有检查任何终端。请在{link}页面导入漏洞数据更新包。',
      'vulns.bundlesLink': '更新包',
      'vulns.feedVersion': '漏洞库版本 {v}',
      'vulns.feedLine': '{version} — {advisories}，{kev}，加载于 {loaded}。{match}',
      'vulns.advisory.one': '{n} 条安全公告',
      'vulns.advisory.many': '{n} 条安全公告',
      'vulns.kev.one': '{n} 条 KEV 记录',
      'vulns.kev.many': '{n} 条 KEV 记录',
      'vulns.host.one': '{n} 台终端',
      'vulns.host.many': '{n} 台终端',
      'vulns.finding.one': '{n} 个漏洞项',
      'vulns.finding.many': '{n} 个漏洞项',
      'vulns.lastMatch': '上次全量重新匹配：{time}（版本 {v}，{hosts}，新增 {appeared} 项，修复 {fixed} 项，未修复 {open} 项，耗时 {ms} ms）。',
      'vulns.notMatched': '尚未对所有终端重新匹配。',
      'vulns.feedError': '最新安装的漏洞库未启用：{error}',
      'vulns.feedErrorStill': '最新安装的漏洞库未启用（仍在使用版本 {v}）：{error}',
      'vulns.prioCardTitle': '{hint}。点击列出这些漏洞项。',
      'vulns.totals': '{hosts}中已有 {matched} 台与漏洞库比对，其中 {withFindings} 台有未修复漏洞项；{suppressed}因已接受风险而隐藏。统计的是未修复漏洞项，每个终端每个公告计一次。',
      'vulns.noDepartment': '无',
      'vulns.noHosts': '尚未接入终端。',
      'vulns.noUpgrades': '没有可通过升级修复的未修复漏洞项。',
      'vulns.acceptedFlag': '已接受风险',
      'vulns.noEol': '所有终端的操作系统均在支持期内。',
      'vulns.summaryFailed': '无法加载漏洞概况：{error}',
      'vulns.findingsFailed': '无法加载漏洞项：{error}',
      'vulns.findingsNotLoaded': '漏洞项加载失败。',
      'vulns.noMatch': '没有符合筛选条件的漏洞项。',
      'vulns.noOpen': '没有未修复的漏洞项。所有终端均已按漏洞库更新，或其风险已被接受。',
      'vulns.range': '第 {from}–{to} 条，共 {total}',
      'vulns.suppressionsFailed': '无法加载已接受的风险：{error}',
      'vulns.noSuppressions': '没有生效中的已接受风险。'
    }
  });

  /* "1 host", "3 hosts": a count and its noun, from the words KEY.one and KEY.many. */
  function counted(key, n) {
    return ww.t(n === 1 ? key + '.one' : key + '.many', { n: formatCount(n) });
  }

  function showVulns() {
    var view = beginView('vulns');
    var filters = state.vulnFilters;
    var summary = null;
    var loadingSummary = false;
    var findingsSeq = 0;
    var findingsTotal = null;
    setTitle(ww.t('vulns.title'));

    var feedLine = el('p', { className: 'feed-status', id: 'vuln-feed' }, ww.t('vulns.loadingFeed') + ELLIPSIS);
    var feedWarnings = el('div', { id: 'vuln-feed-warnings' });
    var totalsLine = el('p', { className: 'muted small', id: 'vuln-totals' });
    var prioBox = el('div', { className: 'summary', id: 'vuln-priorities' });

    var depColumns = [{ label: ww.t('vulns.col.department') }, { label: ww.t('vulns.col.hosts'), className: 'num shrink' },
      { label: ww.t('vulns.col.withFindings'), className: 'num shrink', title: ww.t('vulns.col.withFindingsTitle') }];
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      depColumns.push({ label: priorityTitle(PRIORITIES[i]), className: 'num shrink', title: priorityHint(PRIORITIES[i]) });
    }
    var deps = dataTable('vuln-departments', depColumns);
    loadingRow(deps, ww.t('vulns.loading'));
    var upgrades = dataTable('vuln-upgrades', [
      { label: ww.t('vulns.col.package'), title: ww.t('vulns.col.packageTitle') },
      { label: ww.t('vulns.col.upgradeTo'), title: ww.t('vulns.col.upgradeToTitle') },
      { label: ww.t('vulns.col.hosts'), className: 'num shrink' },
      { label: ww.t('vulns.col.findings'), className: 'num shrink', title: ww.t('vulns.col.findingsTitle') },
      { label: ww.t('vulns.col.advisories'), className: 'num shrink' },
      { label: ww.t('vulns.col.ransomware'), className: 'num shrink', title: ww.t('vulns.col.ransomwareTitle') },
      { label: ww.t('vulns.col.exploited'), className: 'num shrink', title: ww.t('vulns.col.exploitedTitle') }
    ]);
    loadingRow(upgrades, ww.t('vulns.loading'));
    var eol = dataTable('vuln-eol', [
      { label: ww.t('vulns.col.host') },
      { label: ww.t('vulns.col.department') },
      { label: ww.t('vulns.col.os') },
      { label: ww.t('vulns.col.remedy') },
      { label: ww.t('vulns.col.advisory'), className: 'shrink' }
    ]);
    loadingRow(eol, ww.t('vulns.loading'));

    var prioOptions = [{ value: '', text: ww.t('vulns.everyPriority') }];
    for (i = 0; i < PRIORITIES.length; i++) {
      prioOptions.push({ value: PRIORITIES[i], text: priorityTitle(PRIORITIES[i]) });
    }
    var stateOptions = [];
    for (i = 0; i < FINDING_STATES.length; i++) {
      stateOptions.push({ value: FINDING_STATES[i], text: findingStateTitle(FINDING_STATES[i]) });
    }
    var prioSelect = selectBox('vuln-filter-priority', ww.t('vulns.col.priority'), prioOptions, filters.priority);
    var depSelect = selectBox('vuln-filter-department', ww.t('vulns.col.department'), [{ value: '', text: ww.t('vulns.everyDepartment') }], '');
    var stateSelect = selectBox('vuln-filter-state', ww.t('vulns.col.state'), stateOptions, filters.state);
    var findingsCount = el('span', { className: 'info', id: 'vuln-findings-count' });
    var exportCsv = el('a', { id: 'vuln-export-csv', className: 'btn btn-small', href: '#', title: ww.t('vulns.exportCsvTitle') }, 'CSV');
    var exportJson = el('a', { id: 'vuln-export-json', className: 'btn btn-small', href: '#', title: ww.t('vulns.exportJsonTitle') }, 'JSON');
    var pager = offsetPager('vuln-findings', FINDING_PAGE_SIZE, function () {
      return { offset: filters.offset, total: findingsTotal };
    }, function (to) {
      filters.offset = to;
      loadFindings();
    });
    var findings = dataTable('vuln-findings', [
      { label: ww.t('vulns.col.priority'), className: 'shrink' },
      { label: ww.t('vulns.col.host') },
      { label: ww.t('vulns.col.advisory') },
      { label: ww.t('vulns.col.package') },
      { label: ww.t('vulns.col.installedFixed') },
      { label: ww.t('vulns.col.firstSeen'), className: 'shrink' },
      { label: ww.t('vulns.col.state'), className: 'shrink' }
    ]);
    loadingRow(findings, ww.t('vulns.loadingFindings'));
    var suppressionsBox = el('div', { id: 'vuln-suppressions-box' });

    function section(id, heading, content, note) {
      return el('section', { className: 'vuln-section', id: id }, [el('h2', null, heading), content,
        note ? el('p', { className: 'legend' }, note) : null]);
    }

    append(byId('app'), el('div', { id: 'vulns-view' }, [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('vulns.title')), el('span', { className: 'spacer' }), advisorySearchForm()]),
      feedLine,
      feedWarnings,
      prioBox,
      totalsLine,
      section('vuln-upgrades-section', ww.t('vulns.upgrades'), el('div', { className: 'table-wrap' }, upgrades.table),
        ww.t('vulns.upgradesNote')),
      el('div', { className: 'vuln-columns' }, [
        section('vuln-departments-section', ww.t('vulns.byDepartment'), el('div', { className: 'table-wrap' }, deps.table),
          ww.t('vulns.byDepartmentNote')),
        section('vuln-eol-section', ww.t('vulns.eol'), el('div', { className: 'table-wrap' }, eol.table))
      ]),
      section('vuln-findings-section', ww.t('vulns.findings'), [
        el('div', { className: 'toolbar' }, [
          el('span', { className: 'filters' }, [prioSelect, depSelect, stateSelect]),
          findingsCount,
          el('span', { className: 'spacer' }),
          el('span', { className: 'exports' }, [el('span', { className: 'muted small' }, ww.t('vulns.download')), exportCsv, ' ', exportJson]),
          pager.node
        ]),
        el('div', { className: 'table-wrap' }, findings.table)
      ], ww.t('vulns.findingsNote')),
      section('vuln-suppressions-section', ww.t('vulns.suppressions'), suppressionsBox)
    ]));

    function renderFeed() {
      var feed = summary.feed || {};
      var m = feed.last_fleet_match;
      clear(feedLine);
      clear(feedWarnings);
      if (feed.version === null || feed.version === undefined) {
        append(feedLine, el('span', { className: 'muted' }, ww.t('vulns.noFeed')));
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-missing' },
          wordNodes('vulns.feedMissing', { link: el('a', { href: '#/bundles' }, ww.t('vulns.bundlesLink')) })));
      } else {
        append(feedLine, wordNodes('vulns.feedLine', {
          version: el('strong', null, ww.t('vulns.feedVersion', { v: feed.version })),
          advisories: el('span', { id: 'vuln-feed-advisories' }, counted('vulns.advisory', feed.advisories)),
          kev: counted('vulns.kev', feed.kev_entries),
          loaded: timeNode(feed.loaded_at),
          match: m ? el('span', { id: 'vuln-feed-match' }, wordNodes('vulns.lastMatch', {
            time: timeNode(m.finished_at), v: m.feed_version, hosts: counted('vulns.host', m.hosts),
            appeared: formatCount(m.appeared), fixed: formatCount(m.fixed), open: formatCount(m.open), ms: m.millis
          })) : el('span', { id: 'vuln-feed-match', className: 'muted' }, ww.t('vulns.notMatched'))
        }));
      }
      if (feed.error) {
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-error', role: 'alert' },
          feed.version !== null && feed.version !== undefined ?
            ww.t('vulns.feedErrorStill', { v: feed.version, error: String(feed.error) }) :
            ww.t('vulns.feedError', { error: String(feed.error) })));
      }
    }

    function renderPriorities() {
      var list = isArray(summary.by_priority) ? summary.by_priority : [];
      var counts = {}, k, prio, c, card;
      for (k = 0; k < list.length; k++) {
        if (list[k] && list[k].priority) {
          counts[list[k].priority] = list[k];
        }
      }
      clear(prioBox);
      for (k = 0; k < PRIORITIES.length; k++) {
        prio = PRIORITIES[k];
        c = counts[prio] || { findings: 0, hosts: 0 };
        card = el('div', {
          className: 'summary-card prio-card prio-card-' + prio + (c.findings > 0 ? ' has-findings' : '') +
            (filters.priority === prio ? ' selected' : ''),
          'data-priority': prio, 'data-findings': String(c.findings), role: 'button', tabindex: '0',
          title: ww.t('vulns.prioCardTitle', { hint: priorityHint(prio) })
        }, [
          el('span', { className: 'value' }, formatCount(c.findings)),
          el('span', { className: 'name' }, priorityTitle(prio)),
          el('span', { className: 'sub' }, counted('vulns.host', c.hosts))
        ]);
        prioBox.appendChild(card);
      }
    }

    function renderTotals() {
      var t = summary.totals || {};
      setText(totalsLine, ww.t('vulns.totals', {
        matched: formatCount(t.matched), hosts: counted('vulns.host', t.hosts), withFindings: formatCount(t.with_findings),
        suppressed: counted('vulns.finding', t.suppressed_findings)
      }));
    }

    function renderDepartments() {
      var list = isArray(summary.by_department) ? summary.by_department : [];
      var frag = document.createDocumentFragment();
      var k, d, cells, p, n, current = depSelect.value || filters.department;
      for (k = 0; k < list.length; k++) {
        d = list[k] || {};
        cells = [
          el('td', { className: 'wrap' }, d.department ? el('a', { href: '#/vulns', className: 'department-link' }, String(d.department)) :
            el('span', { className: 'empty' }, ww.t('vulns.noDepartment'))),
          el('td', { className: 'num' }, formatCount(d.hosts)),
          el('td', { className: 'num' }, formatCount(d.hosts_with_findings))
        ];
        for (p = 0; p < PRIORITIES.length; p++) {
          n = d.by_priority && typeof d.by_priority[PRIORITIES[p]] === 'number' ? d.by_priority[PRIORITIES[p]] : 0;
          cells.push(el('td', { className: 'num' + (n ? ' count-' + PRIORITIES[p] : ' muted'), 'data-priority': PRIORITIES[p] }, formatCount(n)));
        }
        frag.appendChild(el('tr', { className: 'department-row', 'data-department': str(d.department) }, cells));
      }
      fillTable(deps, frag, list.length, ww.t('vulns.noHosts'));
      /* The department filter offers every department (and keeps a chosen one). */
      clear(depSelect);
      depSelect.appendChild(el('option', { value: '' }, ww.t('vulns.everyDepartment')));
      for (k = 0; k < list.length; k++) {
        if (list[k] && list[k].department) {
          depSelect.appendChild(el('option', { value: String(list[k].department) }, String(list[k].department)));
        }
      }
      if (current && !hasOption(depSelect, current)) {
        depSelect.appendChild(el('option', { value: current }, current));
      }
      depSelect.value = current || '';
    }

    function hasOption(select, value) {
      var k;
      for (k = 0; k < select.options.length; k++) {
        if (select.options[k].value === value) {
          return true;
        }
      }
      return false;
    }

    function renderUpgrades() {
      var list = isArray(summary.upgrades) ? summary.upgrades : [];
      var frag = document.createDocumentFragment();
      var k, u;
      for (k = 0; k < list.length; k++) {
        u = list[k] || {};
        frag.appendChild(el('tr', { className: 'upgrade-row' + (u.ransomware ? ' upgrade-ransomware' : ''),
          'data-source': str(u.source), 'data-ecosystem': str(u.ecosystem), 'data-target': str(u.target_version) }, [
          el('td', { className: 'wrap' }, [el('span', { className: 'mono package-name' }, str(u.source)),
            el('div', { className: 'muted small' }, str(u.ecosystem))]),
          el('td', { className: 'wrap mono target-version' }, orDash(u.target_version)),
          el('td', { className: 'num' }, formatCount(u.hosts)),
          el('td', { className: 'num' }, formatCount(u.findings)),
          el('td', { className: 'num' }, formatCount(u.advisories)),
          el('td', { className: 'num' + (u.ransomware ? ' count-ransomware' : ' muted') }, formatCount(u.ransomware)),
          el('td', { className: 'num' + (u.exploited ? ' count-exploited' : ' muted') }, formatCount(u.exploited))
        ]));
      }
      fillTable(upgrades, frag, list.length, ww.t('vulns.noUpgrades'));
    }

    function renderEol() {
      var list = isArray(summary.eol_hosts) ? summary.eol_hosts : [];
      var frag = document.createDocumentFragment();
      var k, h;
      for (k = 0; k < list.length; k++) {
        h = list[k] || {};
        frag.appendChild(el('tr', { className: 'eol-row' + (h.suppressed ? ' eol-accepted' : ''), 'data-host': str(h.host_id) }, [
          el('td', { className: 'wrap' }, hostCell(h.host_id, h.hostname, h.host_label)),
          el('td', { className: 'wrap' }, orDash(h.department)),
          el('td', { className: 'wrap' }, orDash(h.os)),
          el('td', { className: 'wrap' }, [str(h.remedy), h.suppressed ? el('span', { className: 'flag', title: stateTitle('accepted') }, ww.t('vulns.acceptedFlag')) : null]),
          el('td', { className: 'nowrap' }, advisoryLink(h.advisory))
        ]));
      }
      fillTable(eol, frag, list.length, ww.t('vulns.noEol'));
    }

    function loadSummary() {
      if (loadingSummary) {
        return;
      }
      loadingSummary = true;
      api('GET', '/api/vuln/summary', null, function (err, data) {
        loadingSummary = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('vulns.summaryFailed', { error: err.message }));
          return;
        }
        summary = data;
        renderFeed();
        renderPriorities();
        renderTotals();
        renderDepartments();
        renderUpgrades();
        renderEol();
      });
    }

    function findingRow(f) {
      var s = findingState(f);
      return el('tr', {
        className: 'finding-row finding-' + s + (f.ransomware ? ' finding-ransomware' : ''),
        'data-advisory': str(f.advisory), 'data-host': str(f.host_id), 'data-package': str(f.package),
        'data-priority': str(f.priority), 'data-state': s
      }, [
        el('td', { className: 'nowrap' }, priorityCell(f)),
        el('td', { className: 'wrap' }, [hostCell(f.host_id, f.hostname, f.host_label),
          f.department ? el('div', { className: 'muted small' }, String(f.department)) : null]),
        el('td', { className: 'wrap' }, advisoryCell(f)),
        el('td', { className: 'wrap' }, packageCell(f)),
        el('td', { className: 'wrap' }, versionChange(f)),
        el('td', { className: 'nowrap' }, timeNode(f.first_seen)),
        el('td', { className: 'nowrap' }, stateCell(f, s))
      ]);
    }

    function updateExports() {
      var q = { priority: filters.priority, department: filters.department, state: filters.state };
      q.format = 'csv';
      exportCsv.setAttribute('href', '/api/vuln/findings' + encodeQuery(q));
      q.format = 'json';
      exportJson.setAttribute('href', '/api/vuln/findings' + encodeQuery(q));
    }

    function loadFindings() {
      var seq = ++findingsSeq;
      setClass(findings.table, 'loading', true);
      api('GET', '/api/vuln/findings' + encodeQuery({
        priority: filters.priority, department: filters.department, state: filters.state,
        limit: FINDING_PAGE_SIZE, offset: filters.offset
      }), null, function (err, data) {
        var list, frag, k;
        if (!view.alive() || seq !== findingsSeq) {
          return;
        }
        setClass(findings.table, 'loading', false);
        if (err) {
          showError(ww.t('vulns.findingsFailed', { error: err.message }));
          if (findingsTotal === null) {
            messageRow(findings.tbody, findings.columns, ww.t('vulns.findingsNotLoaded'), 'placeholder-row');
          }
          return;
        }
        list = isArray(data.findings) ? data.findings : [];
        findingsTotal = typeof data.total === 'number' ? data.total : list.length;
        if (filters.offset > 0 && !list.length && findingsTotal > 0) {
          filters.offset = lastPageOffset(findingsTotal, FINDING_PAGE_SIZE);
          loadFindings();
          return;
        }
        frag = document.createDocumentFragment();
        for (k = 0; k < list.length; k++) {
          frag.appendChild(findingRow(list[k] || {}));
        }
        fillTable(findings, frag, list.length, filters.priority || filters.department || filters.state !== 'open' ?
          ww.t('vulns.noMatch') : ww.t('vulns.noOpen'));
        setText(findingsCount, list.length ? ww.t('vulns.range', {
          from: formatCount(filters.offset + 1), to: formatCount(filters.offset + list.length),
          total: counted('vulns.finding', findingsTotal)
        }) : counted('vulns.finding', findingsTotal));
        pager.update(filters.offset, findingsTotal);
      });
    }

    function loadSuppressions() {
      api('GET', '/api/vuln/suppressions', null, function (err, data) {
        var list, active = [], k;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('vulns.suppressionsFailed', { error: err.message }));
          return;
        }
        list = isArray(data.suppressions) ? data.suppressions : [];
        for (k = 0; k < list.length; k++) {
          if (list[k] && list[k].active) {
            active.push(list[k]);
          }
        }
        clear(suppressionsBox);
        append(suppressionsBox, suppressionTable('vuln-suppressions', active, {
          withAdvisory: true,
          empty: ww.t('vulns.noSuppressions'),
          onLift: state.role === 'admin' ? function (id, button) {
            liftSuppression(id, button, reloadAll);
          } : null
        }));
      });
    }

    function reloadAll() {
      loadSummary();
      loadFindings();
      loadSuppressions();
    }

    function applyFilters() {
      filters.priority = prioSelect.value;
      filters.department = depSelect.value;
      filters.state = stateSelect.value || 'open';
      filters.offset = 0;
      updateExports();
      if (summary) {
        renderPriorities();
      }
      loadFindings();
    }

    prioSelect.addEventListener('change', applyFilters, false);
    depSelect.addEventListener('change', applyFilters, false);
    stateSelect.addEventListener('change', applyFilters, false);

    function pickPriority(card) {
      var p = card.getAttribute('data-priority');
      prioSelect.value = filters.priority === p ? '' : p;
      applyFilters();
    }
    prioBox.addEventListener('click', function (ev) {
      var card = closestWithClass(ev.target || ev.srcElement, 'prio-card', prioBox);
      if (card) {
        pickPriority(card);
      }
    }, false);
    prioBox.addEventListener('keydown', function (ev) {
      var card = closestWithClass(ev.target || ev.srcElement, 'prio-card', prioBox);
      if (card && (ev.keyCode === 13 || ev.keyCode === 32)) {
        ev.preventDefault();
        pickPriority(card);
      }
    }, false);
    deps.tbody.addEventListener('click', function (ev) {
      var target = ev.target || ev.srcElement;
      var row = closestWithClass(target, 'department-row', deps.tbody);
      if (!row || !row.getAttribute('data-department')) {
        return;
      }
      if (target && target.tagName === 'A') {
        ev.preventDefault();
      }
      if (!hasOption(depSelect, row.getAttribute('data-department'))) {
        depSelect.appendChild(el('option', { value: row.getAttribute('data-department') }, row.getAttribute('data-department')));
      }
      depSelect.value = row.getAttribute('data-department');
      applyFilters();
      byId('vuln-findings-section').scrollIntoView();
    }, false);

    /* The department select starts with the remembered one until the summary lists them. */
    if (filters.department) {
      depSelect.appendChild(el('option', { value: filters.department }, filters.department));
      depSelect.value = filters.department;
    }
    updateExports();
    reloadAll();
    view.every(REFRESH_MS, reloadAll);
  }

  ww.views.vulns = showVulns;
}(wardwatch));
