/*
 * wardwatch console, advisory.js: the page of one CVE or advisory (#/vulns/advisory/ID):
 * the matcher's evidence for it, the hosts that have or had it, its accepted risks and,
 * for admins, the form that accepts the risk.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, showMessage = ww.showMessage;
  var isArray = ww.isArray, orDash = ww.orDash, str = ww.str, trim = ww.trim, sentence = ww.sentence;
  var formatCount = ww.formatCount, yesNo = ww.yesNo, roleText = ww.roleText, now = ww.now;
  var timeNode = ww.timeNode, api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, state = ww.state, backLink = ww.backLink;
  var noticeWithLink = ww.noticeWithLink, dataTable = ww.dataTable, messageRow = ww.messageRow;
  var ELLIPSIS = ww.ELLIPSIS;

  var vuln = ww.vuln;
  var MAX_SUPPRESSION_DAYS = vuln.MAX_SUPPRESSION_DAYS, DAY_MS = vuln.DAY_MS;
  var priorityBadge = vuln.priorityBadge, findingState = vuln.findingState;
  var advisoryPath = vuln.advisoryPath, advisoryLink = vuln.advisoryLink, percent = vuln.percent;
  var versionChange = vuln.versionChange, hostCell = vuln.hostCell, utcDay = vuln.utcDay;
  var suppressionTable = vuln.suppressionTable, liftSuppression = vuln.liftSuppression;
  var advisorySearchForm = vuln.advisorySearchForm, stateCell = vuln.stateCell;
  var roleWord = vuln.roleWord, wordNodes = vuln.wordNodes;

  ww.i18n.add({
    en: {
      'advisory.remedy.fixedIn': 'Upgrade to {v} or later',
      'advisory.remedy.fixedAfter': 'Upgrade past {v} (the last affected version)',
      'advisory.remedy.noFixYet': 'No fix yet: mitigate, or accept the risk until a fix is published',
      'advisory.remedy.willNotFix': 'The distribution will not fix it in this release: mitigate or accept the risk',
      'advisory.remedy.willNotFixWhy': 'The distribution will not fix it in this release ({reason}): mitigate or accept the risk',
      'advisory.remedy.upgradeOs': 'Upgrade the operating system to a supported release',
      'advisory.remedy.upgradeOsUntil': 'Upgrade the operating system to a supported release (extended support until {date})',
      'advisory.loading': 'Loading',
      'advisory.reasonPlaceholder': 'Why the risk is accepted, e.g. the device is isolated on VLAN 40 until the vendor ships a fix',
      'advisory.everyHost': 'Every host',
      'advisory.submit': 'Accept the risk',
      'advisory.reason': 'Reason',
      'advisory.through': 'Through (last UTC day it applies, within {n} days)',
      'advisory.hosts': 'Hosts',
      'advisory.formNote': 'Accepted findings leave the open lists and counts until the day they expire. The reason, the account and the date go into the audit record.',
      'advisory.acceptHeading': 'Accept the risk',
      'advisory.viewerNote': 'Only an admin account can accept a risk; you are signed in as {role}.',
      'advisory.back': 'Vulnerabilities',
      'advisory.noEvidence': 'The matcher\u2019s evidence for this advisory is not stored.',
      'advisory.fact.cves': 'CVE ids',
      'advisory.fact.severity': 'Severity',
      'advisory.fact.kev': 'Known exploited (CISA KEV)',
      'advisory.kevSince': ' since {date}',
      'advisory.fact.ransomware': 'Used by ransomware',
      'advisory.yes': 'yes',
      'advisory.fact.epss': 'EPSS',
      'advisory.percentile': ' (percentile {p})',
      'advisory.notScored': 'not scored',
      'advisory.fact.remedy': 'Remedy',
      'advisory.fact.record': 'Feed record',
      'advisory.fact.range': 'Affected range',
      'advisory.fact.comparison': 'Comparison',
      'advisory.fact.comparisonOn': 'Comparison (on {host})',
      'advisory.col.host': 'Host',
      'advisory.col.department': 'Department',
      'advisory.col.advisory': 'Advisory',
      'advisory.col.package': 'Package',
      'advisory.col.installedFixed': 'Installed \u2192 fixed',
      'advisory.col.state': 'State',
      'advisory.col.firstSeen': 'First seen',
      'advisory.noHosts': 'No host has or had this finding.',
      'advisory.count.open': 'Open',
      'advisory.count.suppressed': 'Accepted risk',
      'advisory.count.fixed': 'Fixed',
      'advisory.empty': 'No host of this fleet has or had a finding for {id}.',
      'advisory.emptyHint': 'Check the id (e.g. CVE-2024-3094 or DEBIAN-CVE-2024-3094). The feed may not list it, or no installed package is affected.',
      'advisory.hostsFirst': 'Hosts (the first {n} of {total})',
      'advisory.suppressions': 'Accepted risks',
      'advisory.noSuppressions': 'No risk has been accepted for this advisory.',
      'advisory.advisoryFailed': 'Could not load the advisory: {error}',
      'advisory.suppressionsFailed': 'Could not load the accepted risks: {error}',
      'advisory.backToVulns': 'Back to the vulnerabilities',
      'advisory.acceptedFor': 'Risk accepted for {host} through {day} (accepted risk #{id}).',
      'advisory.acceptedForAll': 'Risk accepted for every host through {day} (accepted risk #{id}).'
    },
    zh: {
      'advisory.remedy.fixedIn': '升级到 {v} 或更高版本',
      'advisory.remedy.fixedAfter': '升级到高于 {v} 的版本（{v} 为最后一个受影响的版本）',
      'advisory.remedy.noFixYet': '暂无修复：请采取缓解措施，或在修复发布前接受风险',
      'advisory.remedy.willNotFix': '发行版不会在此版本中修复：请采取缓解措施或接受风险',
      'advisory.remedy.willNotFixWhy': '发行版不会在此版本中修复（{reason}）：请采取缓解措施或接受风险',
      'advisory.remedy.upgradeOs': '将操作系统升级到受支持的版本',
      'advisory.remedy.upgradeOsUntil': '将操作系统升级到受支持的版本（延长支持至 {date}）',
      'advisory.loading': '正在加载',
      'advisory.reasonPlaceholder': '接受风险的原因，如：该设备已隔离在 VLAN 40 中，等待厂商发布修复',
      'advisory.everyHost': '所有终端',
      'advisory.submit': '接受风险',
      'advisory.reason': '原因',
      'advisory.through': '有效至（生效的最后一天，按 UTC 计，不超过 {n} 天）',
      'advisory.hosts': '终端',
      'advisory.formNote': '已接受的漏洞项在到期之前不计入未修复列表和统计。原因、账号和日期会记入审计记录。',
      'advisory.acceptHeading': '接受风险',
      'advisory.viewerNote': '只有管理员账号可以接受风险；您当前的角色是{roleName}。',
      'advisory.back': '漏洞',
      'advisory.noEvidence': '未保存匹配器对此公告的判定证据。',
      'advisory.fact.cves': 'CVE 编号',
      'advisory.fact.severity': '严重程度',
      'advisory.fact.kev': '已知被利用（CISA KEV）',
      'advisory.kevSince': '（{date} 列入）',
      'advisory.fact.ransomware': '被勒索软件利用',
      'advisory.yes': '是',
      'advisory.fact.epss': 'EPSS',
      'advisory.percentile': '（百分位 {p}）',
      'advisory.notScored': '无评分',
      'advisory.fact.remedy': '处置办法',
      'advisory.fact.record': '漏洞库记录',
      'advisory.fact.range': '受影响范围',
      'advisory.fact.comparison': '版本比较',
      'advisory.fact.comparisonOn': '版本比较（{host}）',
      'advisory.col.host': '终端',
      'advisory.col.department': '科室',
      'advisory.col.advisory': '安全公告',
      'advisory.col.package': '软件包',
      'advisory.col.installedFixed': '已安装 → 修复版本',
      'advisory.col.state': '状态',
      'advisory.col.firstSeen': '首次发现',
      'advisory.noHosts': '没有终端存在或曾存在此漏洞项。',
      'advisory.count.open': '未修复',
      'advisory.count.suppressed': '已接受风险',
      'advisory.count.fixed': '已修复',
      'advisory.empty': '本系统中没有终端存在或曾存在 {id} 的漏洞项。',
      'advisory.emptyHint': '请检查编号（如 CVE-2024-3094 或 DEBIAN-CVE-2024-3094）。可能漏洞库未收录，或没有已安装的软件包受影响。',
      'advisory.hostsFirst': '终端（前 {n} 台，共 {total} 台）',
      'advisory.suppressions': '已接受的风险',
      'advisory.noSuppressions': '此公告尚无已接受的风险。',
      'advisory.advisoryFailed': '无法加载安全公告：{error}',
      'advisory.suppressionsFailed': '无法加载已接受的风险：{error}',
      'advisory.backToVulns': '返回漏洞列表',
      'advisory.acceptedFor': '已为 {host} 接受风险，有效至 {day}（风险接受记录 #{id}）。',
      'advisory.acceptedForAll': '已为所有终端接受风险，有效至 {day}（风险接受记录 #{id}）。'
    }
  });

  function remedyText(remedy, fallback) {
    var kind = remedy && typeof remedy === 'object' ? str(remedy.kind) : '';
    if (kind === 'fixed-in') {
      return ww.t('advisory.remedy.fixedIn', { v: str(remedy.version) });
    }
    if (kind === 'fixed-after') {
      return ww.t('advisory.remedy.fixedAfter', { v: str(remedy.version) });
    }
    if (kind === 'no-fix-yet') {
      return ww.t('advisory.remedy.noFixYet');
    }
    if (kind === 'will-not-fix') {
      return remedy.reason ? ww.t('advisory.remedy.willNotFixWhy', { reason: String(remedy.reason) }) :
        ww.t('advisory.remedy.willNotFix');
    }
    if (kind === 'upgrade-os') {
      return remedy.extended_until ? ww.t('advisory.remedy.upgradeOsUntil', { date: String(remedy.extended_until) }) :
        ww.t('advisory.remedy.upgradeOs');
    }
    return fallback ? String(fallback) : '';
  }

  function showAdvisory(advisoryId) {
    var view = beginView('advisory');
    var app = byId('app');
    var isAdmin = ww.may('accept_risk');
    var loading = false;
    setTitle(advisoryId);

    var title = el('h1', { className: 'advisory-title mono' }, advisoryId);
    var body = el('div', { id: 'advisory-body' }, el('p', { className: 'placeholder' }, ww.t('advisory.loading') + ELLIPSIS));

    /* The accept-a-risk form is built once, so that a reload does not lose what is typed. */
    var reason = el('textarea', { id: 'suppress-reason', rows: 3, maxlength: 2000, placeholder: ww.t('advisory.reasonPlaceholder') });
    var today = now();
    var expires = el('input', { id: 'suppress-expires', type: 'date', min: utcDay(today), max: utcDay(today + (MAX_SUPPRESSION_DAYS - 1) * DAY_MS) });
    var hostSelect = el('select', { id: 'suppress-host' }, el('option', { value: '' }, ww.t('advisory.everyHost')));
    var submit = el('button', { id: 'suppress-submit', type: 'submit', className: 'btn btn-primary' }, ww.t('advisory.submit'));
    var formError = el('div', { id: 'suppress-error', className: 'form-error', role: 'alert', hidden: true });
    var formNote = el('div', { id: 'suppress-status', className: 'form-note', role: 'status', hidden: true });
    var form = el('form', { id: 'suppress-form', className: 'bundle-form suppress-form', method: 'post', action: '#/vulns', novalidate: true }, [
      formNote,
      formError,
      el('div', { className: 'field' }, [el('label', { 'for': 'suppress-reason' }, ww.t('advisory.reason')), reason]),
      el('div', { className: 'field-row' }, [
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-expires' }, ww.t('advisory.through', { n: MAX_SUPPRESSION_DAYS })), expires]),
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-host' }, ww.t('advisory.hosts')), hostSelect])
      ]),
      submit,
      el('p', { className: 'muted small' }, ww.t('advisory.formNote'))
    ]);
    /* English says "an analyst" (roleText), Chinese the role's name alone. */
    var accept = el('section', { className: 'vuln-section', id: 'advisory-accept' }, [
      el('h2', null, ww.t('advisory.acceptHeading')),
      isAdmin ? form : el('p', { className: 'muted', id: 'suppress-viewer-note' },
        ww.t('advisory.viewerNote', { role: roleText(), roleName: state.role ? roleWord(state.role) : roleText() }))
    ]);

    append(app, el('div', { id: 'advisory-view' }, [
      backLink('#/vulns', ww.t('advisory.back')),
      el('div', { className: 'page-head' }, [title, el('span', { className: 'spacer' }), advisorySearchForm()]),
      body,
      accept
    ]));

    function fact(key, label, value, wide) {
      return ww.fact({ 'data-fact': key }, label, value, wide);
    }

    function detailSection(key, d, row) {
      var ex, sev, cves = [], k;
      if (!d) {
        return el('section', { className: 'vuln-section advisory-detail', 'data-advisory': key }, [
          el('h2', null, advisoryLink(key)),
          el('p', { className: 'muted' }, ww.t('advisory.noEvidence'))
        ]);
      }
      ex = d.exploitation || {};
      sev = d.severity || null;
      if (isArray(d.cves)) {
        for (k = 0; k < d.cves.length; k++) {
          cves.push(advisoryLink(d.cves[k]), ' ');
        }
      }
      return el('section', { className: 'vuln-section advisory-detail', 'data-advisory': key }, [
        el('h2', null, [key === advisoryId ? str(key) : advisoryLink(key), row ? ' ' : null, row ? priorityBadge(row.priority) : null]),
        el('dl', { className: 'facts' }, [
          fact('cves', ww.t('advisory.fact.cves'), cves.length ? cves : orDash('')),
          fact('severity', ww.t('advisory.fact.severity'), sev ? [str(sev.level), sev.label && String(sev.label).toLowerCase() !== str(sev.level) ?
            el('span', { className: 'muted' }, ' (' + String(sev.label) + ')') : null] : orDash('')),
          fact('kev', ww.t('advisory.fact.kev'), [yesNo(ex.known_exploited),
            ex.kev_date_added ? el('span', { className: 'muted' }, ww.t('advisory.kevSince', { date: String(ex.kev_date_added) })) : null]),
          fact('ransomware', ww.t('advisory.fact.ransomware'), ex.ransomware ?
            el('span', { className: 'flag flag-ransomware' }, ww.t('advisory.yes')) : yesNo(false)),
          fact('epss', ww.t('advisory.fact.epss'), ex.epss && typeof ex.epss.score === 'number' ?
            [percent(ex.epss.score), el('span', { className: 'muted' }, ww.t('advisory.percentile', { p: percent(ex.epss.percentile || 0) }))] :
            el('span', { className: 'empty' }, ww.t('advisory.notScored'))),
          fact('remedy', ww.t('advisory.fact.remedy'), remedyText(d.remedy, row ? row.remedy : ''), true),
          fact('record', ww.t('advisory.fact.record'), d.why ? str(d.why.record) : orDash(''), true),
          fact('range', ww.t('advisory.fact.range'), d.why ? str(d.why.range) : orDash(''), true),
          fact('comparison', row ? ww.t('advisory.fact.comparisonOn', { host: row.hostname || row.host_id }) : ww.t('advisory.fact.comparison'),
            d.why ? el('span', { className: 'mono' }, str(d.why.comparison)) : orDash(''), true)
        ])
      ]);
    }

    function hostsTable(list, several) {
      var columns = [{ label: ww.t('advisory.col.host') }, { label: ww.t('advisory.col.department') }];
      if (several) {
        columns.push({ label: ww.t('advisory.col.advisory') });
      }
      columns.push({ label: ww.t('advisory.col.package') }, { label: ww.t('advisory.col.installedFixed') },
        { label: ww.t('advisory.col.state'), className: 'shrink' }, { label: ww.t('advisory.col.firstSeen'), className: 'shrink' });
      var t = dataTable('advisory-hosts', columns);
      var k, f, s, cells;
      for (k = 0; k < list.length; k++) {
        f = list[k] || {};
        s = findingState(f);
        cells = [
          el('td', { className: 'wrap' }, hostCell(f.host_id, f.hostname, f.host_label)),
          el('td', { className: 'wrap' }, orDash(f.department))
        ];
        if (several) {
          cells.push(el('td', { className: 'nowrap' }, advisoryLink(f.advisory)));
        }
        cells.push(
          el('td', { className: 'wrap mono' }, str(f.package)),
          el('td', { className: 'wrap' }, versionChange(f)),
          el('td', { className: 'nowrap' }, stateCell(f, s)),
          el('td', { className: 'nowrap' }, timeNode(f.first_seen))
        );
        t.tbody.appendChild(el('tr', { className: 'advisory-host-row finding-' + s, 'data-host': str(f.host_id),
          'data-advisory': str(f.advisory), 'data-package': str(f.package), 'data-state': s }, cells));
      }
      if (!list.length) {
        messageRow(t.tbody, t.columns, ww.t('advisory.noHosts'));
      }
      return el('div', { className: 'table-wrap' }, t.table);
    }

    function countCard(key, name, n) {
      return el('div', { className: 'summary-card count-card-' + key, 'data-state': key }, [
        el('span', { className: 'value', id: 'advisory-count-' + key }, formatCount(n)),
        el('span', { className: 'name' }, name)
      ]);
    }

    /* The host select offers the hosts the advisory affects. */
    function fillHosts(list) {
      var seen = {}, k, f, current = hostSelect.value;
      clear(hostSelect);
      hostSelect.appendChild(el('option', { value: '' }, ww.t('advisory.everyHost')));
      for (k = 0; k < list.length; k++) {
        f = list[k] || {};
        if (f.host_id && !seen[f.host_id] && findingState(f) !== 'fixed') {
          seen[f.host_id] = true;
          hostSelect.appendChild(el('option', { value: String(f.host_id) },
            (f.hostname ? String(f.hostname) : String(f.host_id)) + (f.host_label ? ' (' + String(f.host_label) + ')' : '')));
        }
      }
      hostSelect.value = seen[current] ? current : '';
    }

    function render(data, allSuppressions) {
      var advisories = data.advisories && typeof data.advisories === 'object' ? data.advisories : {};
      var list = isArray(data.findings) ? data.findings : [];
      var counts = data.counts || {};
      var ids = {}, keys = [], key, k, j, firstRow = {}, mine = [], details = [];
      ids[advisoryId] = true;
      for (key in advisories) {
        if (Object.prototype.hasOwnProperty.call(advisories, key)) {
          keys.push(key);
          ids[key] = true;
        }
      }
      for (k = 0; k < list.length; k++) {
        if (!list[k]) {
          continue;
        }
        ids[str(list[k].advisory)] = true;
        if (!firstRow[list[k].advisory]) {
          firstRow[list[k].advisory] = list[k];
        }
        if (isArray(list[k].cves)) {
          for (j = 0; j < list[k].cves.length; j++) {
            ids[String(list[k].cves[j])] = true;
          }
        }
      }
      /* Suppressions made under the advisory id or any of its CVE ids. */
      for (k = 0; k < allSuppressions.length; k++) {
        if (allSuppressions[k] && ids[str(allSuppressions[k].advisory)] === true) {
          mine.push(allSuppressions[k]);
        }
      }
      for (k = 0; k < keys.length; k++) {
        details.push(detailSection(keys[k], advisories[keys[k]], firstRow[keys[k]]));
      }
      title.setAttribute('id', 'advisory-title');
      clear(body);
      append(body, [
        !list.length ? el('div', { className: 'notice', id: 'advisory-empty' }, [
          el('p', null, wordNodes('advisory.empty', { id: el('span', { className: 'mono' }, advisoryId) })),
          el('p', { className: 'muted' }, ww.t('advisory.emptyHint'))
        ]) : null,
        list.length ? el('div', { className: 'summary', id: 'advisory-counts' }, [
          countCard('open', ww.t('advisory.count.open'), counts.open),
          countCard('suppressed', ww.t('advisory.count.suppressed'), counts.suppressed),
          countCard('fixed', ww.t('advisory.count.fixed'), counts.fixed)
        ]) : null,
        details,
        list.length ? el('section', { className: 'vuln-section', id: 'advisory-hosts-section' }, [
          el('h2', null, data.total > list.length ?
            ww.t('advisory.hostsFirst', { n: formatCount(list.length), total: formatCount(data.total) }) : ww.t('advisory.hosts')),
          hostsTable(list, keys.length > 1)
        ]) : null,
        el('section', { className: 'vuln-section', id: 'advisory-suppressions-section' }, [
          el('h2', null, ww.t('advisory.suppressions')),
          suppressionTable('advisory-suppressions', mine, {
            withAdvisory: mine.length > 0 && (keys.length > 1 || hasOtherId(mine)),
            empty: ww.t('advisory.noSuppressions'),
            onLift: isAdmin ? function (id, button) {
              liftSuppression(id, button, load);
            } : null
          })
        ])
      ]);
      fillHosts(list);
    }

    function hasOtherId(list) {
      var k;
      for (k = 0; k < list.length; k++) {
        if (str(list[k].advisory) !== advisoryId) {
          return true;
        }
      }
      return false;
    }

    function load() {
      var result = null, suppressions = null, failed = false;
      if (loading) {
        return;
      }
      loading = true;
      function done() {
        if (failed || result === null || suppressions === null) {
          return;
        }
        loading = false;
        clearError();
        render(result, suppressions);
      }
      /* failedKey: the word saying what could not be loaded, with the {error}. */
      function fail(err, failedKey) {
        if (failed) {
          return;
        }
        failed = true;
        loading = false;
        showError(ww.t(failedKey, { error: err.message }));
        clear(body);
        append(body, noticeWithLink('advisory-error', sentence(err.message), '#/vulns', ww.t('advisory.backToVulns')));
      }
      api('GET', advisoryPath(advisoryId), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          fail(err, 'advisory.advisoryFailed');
          return;
        }
        result = data;
        done();
      });
      api('GET', '/api/vuln/suppressions', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          fail(err, 'advisory.suppressionsFailed');
          return;
        }
        suppressions = isArray(data.suppressions) ? data.suppressions : [];
        done();
      });
    }

    form.addEventListener('submit', function (ev) {
      var request;
      ev.preventDefault();
      if (submit.disabled) {
        return;
      }
      showMessage(formError, '');
      showMessage(formNote, '');
      /* The server checks everything and says what is wrong, in its words. */
      request = { advisory: advisoryId, reason: reason.value, expires: trim(expires.value) };
      if (hostSelect.value) {
        request.host_id = hostSelect.value;
      }
      submit.disabled = true;
      api('POST', '/api/vuln/suppressions', request, function (err, data) {
        var s, day;
        if (!view.alive()) {
          return;
        }
        submit.disabled = false;
        if (err) {
          showMessage(formError, sentence(err.message));
          return;
        }
        s = data && data.suppression ? data.suppression : {};
        day = typeof s.expires_at === 'number' ? utcDay(s.expires_at - 1) : trim(expires.value);
        showMessage(formNote, s.host_id ?
          ww.t('advisory.acceptedFor', { host: s.host_label ? String(s.host_label) : String(s.host_id), day: day, id: str(s.id) }) :
          ww.t('advisory.acceptedForAll', { day: day, id: str(s.id) }));
        reason.value = '';
        load();
      });
    }, false);

    load();
  }

  ww.views.advisory = showAdvisory;
}(wardwatch));
