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
  var orDash = ww.orDash, str = ww.str, plural = ww.plural, formatCount = ww.formatCount;
  var timeNode = ww.timeNode, api = ww.api, encodeQuery = ww.encodeQuery;
  var showError = ww.showError, beginView = ww.beginView, setTitle = ww.setTitle, state = ww.state;
  var dataTable = ww.dataTable, messageRow = ww.messageRow, loadingRow = ww.loadingRow;
  var fillTable = ww.fillTable, offsetPager = ww.offsetPager, lastPageOffset = ww.lastPageOffset;
  var ELLIPSIS = ww.ELLIPSIS, DASH = ww.DASH, EN_DASH = ww.EN_DASH, REFRESH_MS = ww.REFRESH_MS;

  var vuln = ww.vuln;
  var PRIORITIES = vuln.PRIORITIES, FINDING_STATES = vuln.FINDING_STATES, STATE_TITLES = vuln.STATE_TITLES;
  var FINDING_PAGE_SIZE = vuln.FINDING_PAGE_SIZE, findingState = vuln.findingState;
  var advisoryLink = vuln.advisoryLink, versionChange = vuln.versionChange, hostCell = vuln.hostCell;
  var suppressionTable = vuln.suppressionTable, liftSuppression = vuln.liftSuppression;
  var selectBox = vuln.selectBox, advisorySearchForm = vuln.advisorySearchForm;
  var stateCell = vuln.stateCell, priorityCell = vuln.priorityCell, advisoryCell = vuln.advisoryCell;
  var packageCell = vuln.packageCell;

  function showVulns() {
    var view = beginView('vulns');
    var filters = state.vulnFilters;
    var summary = null;
    var loadingSummary = false;
    var findingsSeq = 0;
    var findingsTotal = null;
    setTitle('Vulnerabilities');

    var feedLine = el('p', { className: 'feed-status', id: 'vuln-feed' }, 'Loading the feed status' + ELLIPSIS);
    var feedWarnings = el('div', { id: 'vuln-feed-warnings' });
    var totalsLine = el('p', { className: 'muted small', id: 'vuln-totals' });
    var prioBox = el('div', { className: 'summary', id: 'vuln-priorities' });

    var depColumns = [{ label: 'Department' }, { label: 'Hosts', className: 'num shrink' },
      { label: 'With findings', className: 'num shrink', title: 'Hosts with open findings' }];
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      depColumns.push({ label: PRIORITIES[i].title, className: 'num shrink', title: PRIORITIES[i].hint });
    }
    var deps = dataTable('vuln-departments', depColumns);
    loadingRow(deps, 'Loading');
    var upgrades = dataTable('vuln-upgrades', [
      { label: 'Package', title: 'Source package' },
      { label: 'Upgrade to', title: 'This version or later removes every finding counted here' },
      { label: 'Hosts', className: 'num shrink' },
      { label: 'Findings', className: 'num shrink', title: 'Open findings (per host and advisory) the upgrade removes' },
      { label: 'Advisories', className: 'num shrink' },
      { label: 'Ransomware', className: 'num shrink', title: 'Of those, used by ransomware campaigns' },
      { label: 'Exploited', className: 'num shrink', title: 'Of those, in CISA\u2019s KEV catalog' }
    ]);
    loadingRow(upgrades, 'Loading');
    var eol = dataTable('vuln-eol', [
      { label: 'Host' },
      { label: 'Department' },
      { label: 'Operating system' },
      { label: 'Remedy' },
      { label: 'Advisory', className: 'shrink' }
    ]);
    loadingRow(eol, 'Loading');

    var prioOptions = [{ value: '', text: 'Every priority' }];
    for (i = 0; i < PRIORITIES.length; i++) {
      prioOptions.push({ value: PRIORITIES[i].id, text: PRIORITIES[i].title });
    }
    var stateOptions = [];
    for (i = 0; i < FINDING_STATES.length; i++) {
      stateOptions.push({ value: FINDING_STATES[i].id, text: FINDING_STATES[i].title });
    }
    var prioSelect = selectBox('vuln-filter-priority', 'Priority', prioOptions, filters.priority);
    var depSelect = selectBox('vuln-filter-department', 'Department', [{ value: '', text: 'Every department' }], '');
    var stateSelect = selectBox('vuln-filter-state', 'State', stateOptions, filters.state);
    var findingsCount = el('span', { className: 'info', id: 'vuln-findings-count' });
    var exportCsv = el('a', { id: 'vuln-export-csv', className: 'btn btn-small', href: '#', title: 'Every matching finding as a CSV file' }, 'CSV');
    var exportJson = el('a', { id: 'vuln-export-json', className: 'btn btn-small', href: '#', title: 'Every matching finding as a JSON file' }, 'JSON');
    var pager = offsetPager('vuln-findings', FINDING_PAGE_SIZE, function () {
      return { offset: filters.offset, total: findingsTotal };
    }, function (to) {
      filters.offset = to;
      loadFindings();
    });
    var findings = dataTable('vuln-findings', [
      { label: 'Priority', className: 'shrink' },
      { label: 'Host' },
      { label: 'Advisory' },
      { label: 'Package' },
      { label: 'Installed \u2192 fixed' },
      { label: 'First seen', className: 'shrink' },
      { label: 'State', className: 'shrink' }
    ]);
    loadingRow(findings, 'Loading findings');
    var suppressionsBox = el('div', { id: 'vuln-suppressions-box' });

    function section(id, heading, content, note) {
      return el('section', { className: 'vuln-section', id: id }, [el('h2', null, heading), content,
        note ? el('p', { className: 'legend' }, note) : null]);
    }

    append(byId('app'), el('div', { id: 'vulns-view' }, [
      el('div', { className: 'page-head' }, [el('h1', null, 'Vulnerabilities'), el('span', { className: 'spacer' }), advisorySearchForm()]),
      feedLine,
      feedWarnings,
      prioBox,
      totalsLine,
      section('vuln-upgrades-section', 'Upgrades that remove the most risk', el('div', { className: 'table-wrap' }, upgrades.table),
        'Ranked by the risk removed: one finding used by ransomware outweighs any number of ordinary ones.'),
      el('div', { className: 'vuln-columns' }, [
        section('vuln-departments-section', 'By department', el('div', { className: 'table-wrap' }, deps.table),
          'Open findings, counted once per host and advisory. Click a department to list its findings.'),
        section('vuln-eol-section', 'Operating systems past their end of life', el('div', { className: 'table-wrap' }, eol.table))
      ]),
      section('vuln-findings-section', 'Findings', [
        el('div', { className: 'toolbar' }, [
          el('span', { className: 'filters' }, [prioSelect, depSelect, stateSelect]),
          findingsCount,
          el('span', { className: 'spacer' }),
          el('span', { className: 'exports' }, [el('span', { className: 'muted small' }, 'Download '), exportCsv, ' ', exportJson]),
          pager.node
        ]),
        el('div', { className: 'table-wrap' }, findings.table)
      ], 'Most urgent first: used by ransomware, then known exploited, then likely to be exploited (EPSS), then severity. One row per installed package.'),
      section('vuln-suppressions-section', 'Accepted risks', suppressionsBox)
    ]));

    function renderFeed() {
      var feed = summary.feed || {};
      var m = feed.last_fleet_match;
      clear(feedLine);
      clear(feedWarnings);
      if (feed.version === null || feed.version === undefined) {
        append(feedLine, el('span', { className: 'muted' }, 'No vulnerability feed is in use.'));
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-missing' }, [
          'No vulnerability feed is installed, so no host is checked. Import a vulnerability data bundle on the ',
          el('a', { href: '#/bundles' }, 'Bundles'), ' page.']));
      } else {
        append(feedLine, [
          el('strong', null, 'Feed version ' + feed.version), ' ' + DASH + ' ',
          el('span', { id: 'vuln-feed-advisories' }, plural(feed.advisories, 'advisory', 'advisories')), ', ',
          plural(feed.kev_entries, 'KEV entry', 'KEV entries'), ', loaded ', timeNode(feed.loaded_at), '. ',
          m ? el('span', { id: 'vuln-feed-match' }, ['Last full re-match: ', timeNode(m.finished_at), ' (version ' + m.feed_version + ', ' +
            plural(m.hosts, 'host', 'hosts') + ', ' + m.appeared + ' appeared, ' + m.fixed + ' fixed, ' + m.open + ' open, ' +
            m.millis + ' ms).']) : el('span', { id: 'vuln-feed-match', className: 'muted' }, 'The fleet has not been re-matched yet.')
        ]);
      }
      if (feed.error) {
        feedWarnings.appendChild(el('div', { className: 'notice notice-warn', id: 'vuln-feed-error', role: 'alert' },
          'The newest installed feed is not in use' + (feed.version !== null && feed.version !== undefined ?
            ' (version ' + feed.version + ' still is)' : '') + ': ' + String(feed.error)));
      }
    }

    function renderPriorities() {
      var list = isArray(summary.by_priority) ? summary.by_priority : [];
      var counts = {}, k, def, c, card;
      for (k = 0; k < list.length; k++) {
        if (list[k] && list[k].priority) {
          counts[list[k].priority] = list[k];
        }
      }
      clear(prioBox);
      for (k = 0; k < PRIORITIES.length; k++) {
        def = PRIORITIES[k];
        c = counts[def.id] || { findings: 0, hosts: 0 };
        card = el('div', {
          className: 'summary-card prio-card prio-card-' + def.id + (c.findings > 0 ? ' has-findings' : '') +
            (filters.priority === def.id ? ' selected' : ''),
          'data-priority': def.id, 'data-findings': String(c.findings), role: 'button', tabindex: '0',
          title: def.hint + '. Click to list these findings.'
        }, [
          el('span', { className: 'value' }, formatCount(c.findings)),
          el('span', { className: 'name' }, def.title),
          el('span', { className: 'sub' }, plural(c.hosts, 'host', 'hosts'))
        ]);
        prioBox.appendChild(card);
      }
    }

    function renderTotals() {
      var t = summary.totals || {};
      setText(totalsLine, formatCount(t.matched) + ' of ' + plural(t.hosts, 'host', 'hosts') + ' checked against the feed, ' +
        formatCount(t.with_findings) + ' with open findings; ' + plural(t.suppressed_findings, 'finding', 'findings') +
        ' hidden by accepted risks. Counts are of open findings, once per host and advisory.');
    }

    function renderDepartments() {
      var list = isArray(summary.by_department) ? summary.by_department : [];
      var frag = document.createDocumentFragment();
      var k, d, cells, p, n, current = depSelect.value || filters.department;
      for (k = 0; k < list.length; k++) {
        d = list[k] || {};
        cells = [
          el('td', { className: 'wrap' }, d.department ? el('a', { href: '#/vulns', className: 'department-link' }, String(d.department)) :
            el('span', { className: 'empty' }, 'none')),
          el('td', { className: 'num' }, formatCount(d.hosts)),
          el('td', { className: 'num' }, formatCount(d.hosts_with_findings))
        ];
        for (p = 0; p < PRIORITIES.length; p++) {
          n = d.by_priority && typeof d.by_priority[PRIORITIES[p].id] === 'number' ? d.by_priority[PRIORITIES[p].id] : 0;
          cells.push(el('td', { className: 'num' + (n ? ' count-' + PRIORITIES[p].id : ' muted'), 'data-priority': PRIORITIES[p].id }, String(n)));
        }
        frag.appendChild(el('tr', { className: 'department-row', 'data-department': str(d.department) }, cells));
      }
      fillTable(deps, frag, list.length, 'No hosts have enrolled yet.');
      /* The department filter offers every department (and keeps a chosen one). */
      clear(depSelect);
      depSelect.appendChild(el('option', { value: '' }, 'Every department'));
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
      fillTable(upgrades, frag, list.length, 'No open finding has a fixed version to upgrade to.');
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
          el('td', { className: 'wrap' }, [str(h.remedy), h.suppressed ? el('span', { className: 'flag', title: STATE_TITLES.accepted }, 'accepted') : null]),
          el('td', { className: 'nowrap' }, advisoryLink(h.advisory))
        ]));
      }
      fillTable(eol, frag, list.length, 'Every host runs a supported operating system.');
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
          showError('Could not load the vulnerability summary: ' + err.message);
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
          showError('Could not load the findings: ' + err.message);
          if (findingsTotal === null) {
            messageRow(findings.tbody, findings.columns, 'The findings could not be loaded.', 'placeholder-row');
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
          'No finding matches the filters.' : 'No open findings. Every host is up to date with the feed, or its risks are accepted.');
        setText(findingsCount, list.length ? (filters.offset + 1) + EN_DASH + (filters.offset + list.length) + ' of ' +
          plural(findingsTotal, 'finding', 'findings') : plural(findingsTotal, 'finding', 'findings'));
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
          showError('Could not load the accepted risks: ' + err.message);
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
          empty: 'No accepted risks are in force.',
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
