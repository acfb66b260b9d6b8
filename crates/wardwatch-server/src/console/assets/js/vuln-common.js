/*
 * wardwatch console, vuln-common.js: what the vulnerability pages share: the fleet view
 * (vulns.js), the page of one CVE or advisory (advisory.js) and a host's findings tab
 * (host-findings.js). Priorities and finding states, their badges, the table cells of a
 * finding, links to advisories, the table of accepted risks and the advisory search box.
 *
 * Advisory ids, package names, versions and the feed's words are outside data: text
 * only. Class names come from the fixed lists below, never from the data. The names are
 * shared as wardwatch.vuln. The words (vulnCommon.*) are looked up when shown, as the
 * language is known only once the account has signed in.
 */
(function (ww) {
  'use strict';

  var el = ww.el, isArray = ww.isArray, hasClass = ww.hasClass, str = ww.str, trim = ww.trim;
  var pad2 = ww.pad2, fullDate = ww.fullDate, relTime = ww.relTime, api = ww.api;
  var showError = ww.showError, clearError = ww.clearError, navigate = ww.navigate;
  var hostHash = ww.hostHash, dataTable = ww.dataTable, messageRow = ww.messageRow;
  var DASH = ww.DASH;

  ww.i18n.add({
    en: {
      'vulnCommon.priority.ransomware': 'Ransomware',
      'vulnCommon.priority.exploited': 'Exploited',
      'vulnCommon.priority.likely': 'Likely exploited',
      'vulnCommon.priority.severe': 'Severe',
      'vulnCommon.priority.other': 'Other',
      'vulnCommon.priorityHint.ransomware': 'In CISA\u2019s KEV catalog as used by ransomware campaigns',
      'vulnCommon.priorityHint.exploited': 'In CISA\u2019s KEV catalog: exploited in the wild',
      'vulnCommon.priorityHint.likely': 'EPSS gives at least 10 % probability of exploitation within 30 days',
      'vulnCommon.priorityHint.severe': 'Rated high or critical',
      'vulnCommon.priorityHint.other': 'Everything else',
      'vulnCommon.filter.open': 'Open',
      'vulnCommon.filter.suppressed': 'Accepted risk',
      'vulnCommon.filter.fixed': 'Fixed',
      'vulnCommon.filter.all': 'All',
      'vulnCommon.state.open': 'open',
      'vulnCommon.state.accepted': 'accepted',
      'vulnCommon.state.fixed': 'fixed',
      'vulnCommon.stateTitle.open': 'Open: neither fixed nor accepted',
      'vulnCommon.stateTitle.accepted': 'Accepted risk: hidden from the open lists until the suppression expires or is lifted',
      'vulnCommon.stateTitle.fixed': 'Fixed: the package was upgraded or removed, or the feed no longer lists it',
      'vulnCommon.role.admin': 'admin',
      'vulnCommon.role.analyst': 'analyst',
      'vulnCommon.role.auditor': 'auditor',
      'vulnCommon.role.operator': 'operator',
      'vulnCommon.epssTitle': 'EPSS: probability of exploitation in the next 30 days',
      'vulnCommon.fixedInTitle': 'fixed in this version',
      'vulnCommon.source': 'source {name}',
      'vulnCommon.col.advisory': 'Advisory',
      'vulnCommon.col.hosts': 'Hosts',
      'vulnCommon.col.reason': 'Reason',
      'vulnCommon.col.expires': 'Expires',
      'vulnCommon.col.expiresTitle': 'At 00:00 UTC of this day',
      'vulnCommon.col.acceptedBy': 'Accepted by',
      'vulnCommon.col.status': 'Status',
      'vulnCommon.status.active': 'active',
      'vulnCommon.status.lifted': 'lifted',
      'vulnCommon.status.expired': 'expired',
      'vulnCommon.liftedBy': 'by {user}, {when}',
      'vulnCommon.roleWhen': '{role}, {when}',
      'vulnCommon.everyHost': 'every host',
      'vulnCommon.until': 'until {date}',
      'vulnCommon.lift': 'Lift',
      'vulnCommon.liftTitle': 'End this accepted risk now: its findings count as open again',
      'vulnCommon.noSuppressions': 'No accepted risks.',
      'vulnCommon.liftFailed': 'Could not lift the accepted risk: {error}',
      'vulnCommon.searchPlaceholder': 'CVE or advisory id, e.g. CVE-2024-3094',
      'vulnCommon.searchLabel': 'Open a CVE or advisory',
      'vulnCommon.searchOpen': 'Open'
    },
    zh: {
      'vulnCommon.priority.ransomware': '勒索软件',
      'vulnCommon.priority.exploited': '已被利用',
      'vulnCommon.priority.likely': '可能被利用',
      'vulnCommon.priority.severe': '高危',
      'vulnCommon.priority.other': '其他',
      'vulnCommon.priorityHint.ransomware': '列入 CISA KEV 目录，已被勒索软件攻击利用',
      'vulnCommon.priorityHint.exploited': '列入 CISA KEV 目录：已在真实攻击中被利用',
      'vulnCommon.priorityHint.likely': 'EPSS 评估 30 天内被利用的概率不低于 10 %',
      'vulnCommon.priorityHint.severe': '评级为高危或严重',
      'vulnCommon.priorityHint.other': '其余漏洞',
      'vulnCommon.filter.open': '未修复',
      'vulnCommon.filter.suppressed': '已接受风险',
      'vulnCommon.filter.fixed': '已修复',
      'vulnCommon.filter.all': '全部',
      'vulnCommon.state.open': '未修复',
      'vulnCommon.state.accepted': '已接受',
      'vulnCommon.state.fixed': '已修复',
      'vulnCommon.stateTitle.open': '未修复：既未修复，也未接受风险',
      'vulnCommon.stateTitle.accepted': '已接受风险：到期或被撤销之前，不出现在未修复列表中',
      'vulnCommon.stateTitle.fixed': '已修复：软件包已升级或卸载，或漏洞库已不再收录',
      'vulnCommon.role.admin': '管理员',
      'vulnCommon.role.analyst': '分析员',
      'vulnCommon.role.auditor': '审计员',
      'vulnCommon.role.operator': '科室操作员',
      'vulnCommon.epssTitle': 'EPSS：未来 30 天内被利用的概率',
      'vulnCommon.fixedInTitle': '此版本已修复',
      'vulnCommon.source': '源码包 {name}',
      'vulnCommon.col.advisory': '安全公告',
      'vulnCommon.col.hosts': '终端',
      'vulnCommon.col.reason': '原因',
      'vulnCommon.col.expires': '到期',
      'vulnCommon.col.expiresTitle': '当天 00:00 UTC 到期',
      'vulnCommon.col.acceptedBy': '接受人',
      'vulnCommon.col.status': '状态',
      'vulnCommon.status.active': '生效中',
      'vulnCommon.status.lifted': '已撤销',
      'vulnCommon.status.expired': '已过期',
      'vulnCommon.liftedBy': '由 {user} 撤销，{when}',
      'vulnCommon.roleWhen': '{role}，{when}',
      'vulnCommon.everyHost': '所有终端',
      'vulnCommon.until': '有效至 {date}',
      'vulnCommon.lift': '撤销',
      'vulnCommon.liftTitle': '立即结束此风险接受：相关漏洞项重新计为未修复',
      'vulnCommon.noSuppressions': '没有已接受的风险。',
      'vulnCommon.liftFailed': '无法撤销已接受的风险：{error}',
      'vulnCommon.searchPlaceholder': 'CVE 或公告编号，如 CVE-2024-3094',
      'vulnCommon.searchLabel': '打开 CVE 或安全公告',
      'vulnCommon.searchOpen': '打开'
    }
  });

  /* The priorities, most urgent first, and the states the findings list filters on; their
     names are priorityTitle(id), priorityHint(id) and findingStateTitle(id). */
  var PRIORITIES = ['ransomware', 'exploited', 'likely', 'severe', 'other'];
  var FINDING_STATES = ['open', 'suppressed', 'fixed', 'all'];
  var STATE_RANK = { open: 0, accepted: 1, fixed: 2 };
  var FINDING_PAGE_SIZE = 100;
  var MAX_SUPPRESSION_DAYS = 366;
  var DAY_MS = 86400000;

  function isPriority(id) {
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      if (PRIORITIES[i] === id) {
        return true;
      }
    }
    return false;
  }

  function priorityTitle(id) {
    return ww.t('vulnCommon.priority.' + id);
  }

  function priorityHint(id) {
    return ww.t('vulnCommon.priorityHint.' + id);
  }

  /* The name of a state of the findings list's filter (FINDING_STATES). */
  function findingStateTitle(id) {
    return ww.t('vulnCommon.filter.' + id);
  }

  /* What a finding's state (open, accepted, fixed) means, for a tooltip. */
  function stateTitle(s) {
    return ww.t('vulnCommon.stateTitle.' + s);
  }

  /* An account's role (admin, analyst, auditor, operator) in the user's language; the
     code itself when it is not one of those. */
  function roleWord(role) {
    var key = 'vulnCommon.role.' + str(role);
    return Object.prototype.hasOwnProperty.call(ww.i18n.words.en, key) ? ww.t(key) : str(role);
  }

  /* A word whose {name} places hold DOM nodes (a link, a time) or text: the word's parts
     with params put in their places, as a list for el() or append() (text next to text
     joined into one string). */
  function wordNodes(key, params) {
    var parts = ww.t(key).split(/\{(\w+)\}/);
    var out = [], i, v;
    for (i = 0; i < parts.length; i++) {
      if (i % 2 === 0) {
        v = parts[i];
      } else if (Object.prototype.hasOwnProperty.call(params, parts[i])) {
        v = params[parts[i]];
      } else {
        v = '{' + parts[i] + '}';
      }
      if (typeof v === 'number') {
        v = String(v);
      }
      if (typeof v === 'string' && out.length && typeof out[out.length - 1] === 'string') {
        out[out.length - 1] += v;
      } else if (v !== '') {
        out.push(v);
      }
    }
    return out;
  }

  function priorityBadge(priority) {
    var id = str(priority);
    var known = isPriority(id);
    return el('span', { className: 'prio prio-' + (known ? id : 'other'), title: known ? priorityHint(id) : null },
      known ? priorityTitle(id) : (priority ? String(priority) : DASH));
  }

  function findingState(f) {
    if (f.fixed_at !== null && f.fixed_at !== undefined) {
      return 'fixed';
    }
    return f.suppression_id !== null && f.suppression_id !== undefined ? 'accepted' : 'open';
  }

  function stateBadge(s) {
    var known = Object.prototype.hasOwnProperty.call(STATE_RANK, s);
    return el('span', { className: 'fstate fstate-' + (known ? s : 'open'), title: known ? stateTitle(s) : null },
      known ? ww.t('vulnCommon.state.' + s) : s);
  }

  function advisoryHash(id) {
    return '#/vulns/advisory/' + encodeURIComponent(id);
  }

  function advisoryPath(id) {
    return '/api/vuln/advisories/' + encodeURIComponent(id);
  }

  function advisoryLink(id) {
    return el('a', { className: 'advisory-link mono', href: advisoryHash(str(id)) }, str(id));
  }

  /* The CVE ids of a finding that are not its advisory id, as links. */
  function cveLinks(f) {
    var list = isArray(f.cves) ? f.cves : [];
    var out = [], i;
    for (i = 0; i < list.length; i++) {
      if (String(list[i]) !== str(f.advisory)) {
        out.push(advisoryLink(list[i]), ' ');
      }
    }
    return out.length ? el('div', { className: 'cves small' }, out) : null;
  }

  /* The priority badge already says ransomware or KEV; the EPSS score adds to it. */
  function exploitFlags(f) {
    return typeof f.epss === 'number' ? el('span', { className: 'muted small', title: ww.t('vulnCommon.epssTitle') },
      'EPSS ' + percent(f.epss)) : null;
  }

  function percent(x) {
    var p = x * 100;
    return (p >= 10 ? Math.round(p) : Math.round(p * 10) / 10) + ' %';
  }

  /* "3.0.15-1 → 3.0.17-1", or the version and the remedy when there is no fixed version. */
  function versionChange(f) {
    return [
      el('span', { className: 'mono' }, str(f.version)),
      f.fixed_version ? [' \u2192 ', el('span', { className: 'mono fixed-version', title: ww.t('vulnCommon.fixedInTitle') }, String(f.fixed_version))] :
        el('div', { className: 'muted small' }, str(f.remedy))
    ];
  }

  function hostCell(hostId, hostname, label) {
    return [
      el('a', { className: 'host-link', href: hostHash(str(hostId)) }, hostname ? String(hostname) : str(hostId)),
      label ? el('div', { className: 'muted small' }, String(label)) : null
    ];
  }

  /* CVE ids are upper case in the feed; people type them in any case. */
  function normalizeAdvisoryId(text) {
    var t = trim(str(text));
    return /^cve-/i.test(t) ? t.toUpperCase() : t;
  }

  /* "2026-01-31", the UTC day of a time (suppressions expire at 00:00 UTC). */
  function utcDay(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
  }

  /* A table of suppressions; opts.withAdvisory adds the advisory column, opts.onLift (for
     admins) a Lift button on each active one. */
  function suppressionTable(id, list, opts) {
    var columns = [];
    var i, s, status, cells;
    if (opts.withAdvisory) {
      columns.push({ label: ww.t('vulnCommon.col.advisory') });
    }
    columns.push({ label: ww.t('vulnCommon.col.hosts') }, { label: ww.t('vulnCommon.col.reason') },
      { label: ww.t('vulnCommon.col.expires'), className: 'shrink', title: ww.t('vulnCommon.col.expiresTitle') },
      { label: ww.t('vulnCommon.col.acceptedBy'), className: 'shrink' }, { label: ww.t('vulnCommon.col.status'), className: 'shrink' });
    if (opts.onLift) {
      columns.push({ label: '', className: 'shrink' });
    }
    var t = dataTable(id, columns);
    for (i = 0; i < list.length; i++) {
      s = list[i] || {};
      if (s.active) {
        status = el('span', { className: 'fstate fstate-accepted' }, ww.t('vulnCommon.status.active'));
      } else if (s.lifted_at !== null && s.lifted_at !== undefined) {
        status = [el('span', { className: 'fstate fstate-fixed' }, ww.t('vulnCommon.status.lifted')),
          el('div', { className: 'muted small', title: fullDate(s.lifted_at) },
            ww.t('vulnCommon.liftedBy', { user: str(s.lifted_by), when: relTime(s.lifted_at) }))];
      } else {
        status = el('span', { className: 'fstate fstate-fixed' }, ww.t('vulnCommon.status.expired'));
      }
      cells = [];
      if (opts.withAdvisory) {
        cells.push(el('td', { className: 'nowrap' }, advisoryLink(s.advisory)));
      }
      cells.push(
        el('td', { className: 'wrap' }, s.host_id ? hostCell(s.host_id, s.host_label, null) : el('span', { className: 'every-host' }, ww.t('vulnCommon.everyHost'))),
        el('td', { className: 'wrap reason' }, str(s.reason)),
        el('td', { className: 'nowrap', title: ww.t('vulnCommon.until', { date: fullDate(s.expires_at) }) }, utcDay(s.expires_at - 1)),
        el('td', { className: 'nowrap' }, [str(s.created_by), el('div', { className: 'muted small', title: fullDate(s.created_at) },
          ww.t('vulnCommon.roleWhen', { role: roleWord(s.role), when: relTime(s.created_at) }))]),
        el('td', { className: 'nowrap' }, status)
      );
      if (opts.onLift) {
        cells.push(el('td', { className: 'nowrap' }, s.active ? el('button', {
          type: 'button', className: 'btn btn-small lift-suppression', 'data-id': str(s.id),
          title: ww.t('vulnCommon.liftTitle')
        }, ww.t('vulnCommon.lift')) : null));
      }
      t.tbody.appendChild(el('tr', { className: 'suppression-row' + (s.active ? '' : ' suppression-inactive'),
        'data-id': str(s.id), 'data-active': s.active ? 'true' : 'false' }, cells));
    }
    if (!list.length) {
      messageRow(t.tbody, t.columns, opts.empty || ww.t('vulnCommon.noSuppressions'));
    }
    if (opts.onLift) {
      t.tbody.addEventListener('click', function (ev) {
        var target = ev.target || ev.srcElement;
        if (target && target.tagName === 'BUTTON' && hasClass(target, 'lift-suppression') && !target.disabled) {
          target.disabled = true;
          opts.onLift(target.getAttribute('data-id'), target);
        }
      }, false);
    }
    return el('div', { className: 'table-wrap' }, t.table);
  }

  function liftSuppression(id, button, done) {
    api('DELETE', '/api/vuln/suppressions/' + encodeURIComponent(id), null, function (err) {
      if (err) {
        button.disabled = false;
        showError(ww.t('vulnCommon.liftFailed', { error: err.message }));
        return;
      }
      clearError();
      done();
    });
  }

  function selectBox(id, label, options, value) {
    var select = el('select', { id: id, 'aria-label': label });
    var i;
    for (i = 0; i < options.length; i++) {
      select.appendChild(el('option', { value: options[i].value }, options[i].text));
    }
    select.value = value;
    return select;
  }

  /* A search box for a CVE or advisory id; opens its page. */
  function advisorySearchForm() {
    var input = el('input', {
      id: 'advisory-search', type: 'search', placeholder: ww.t('vulnCommon.searchPlaceholder'),
      'aria-label': ww.t('vulnCommon.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    var form = el('form', { id: 'advisory-search-form', className: 'advisory-search', method: 'get', action: '#/vulns', novalidate: true }, [
      input,
      el('button', { id: 'advisory-search-submit', type: 'submit', className: 'btn' }, ww.t('vulnCommon.searchOpen'))
    ]);
    form.addEventListener('submit', function (ev) {
      var id = normalizeAdvisoryId(input.value);
      ev.preventDefault();
      if (id) {
        navigate(advisoryHash(id));
      } else {
        input.focus();
      }
    }, false);
    return form;
  }

  /* ---------- a finding's table cells ---------- */

  /* The state, and for a fixed finding how long ago it was fixed. */
  function stateCell(f, s) {
    return [stateBadge(s), s === 'fixed' ? el('div', { className: 'muted small', title: fullDate(f.fixed_at) }, relTime(f.fixed_at)) : null];
  }

  function priorityCell(f) {
    return [priorityBadge(f.priority), el('div', null, exploitFlags(f))];
  }

  function advisoryCell(f) {
    return [advisoryLink(f.advisory), cveLinks(f)];
  }

  /* The package, and its source package when that has another name. */
  function packageCell(f) {
    return [el('span', { className: 'mono' }, str(f.package)),
      f.source && f.source !== f.package ? el('div', { className: 'muted small' }, ww.t('vulnCommon.source', { name: String(f.source) })) : null];
  }

  ww.vuln = {
    PRIORITIES: PRIORITIES,
    FINDING_STATES: FINDING_STATES,
    STATE_RANK: STATE_RANK,
    FINDING_PAGE_SIZE: FINDING_PAGE_SIZE,
    MAX_SUPPRESSION_DAYS: MAX_SUPPRESSION_DAYS,
    DAY_MS: DAY_MS,
    priorityTitle: priorityTitle,
    priorityHint: priorityHint,
    findingStateTitle: findingStateTitle,
    stateTitle: stateTitle,
    roleWord: roleWord,
    wordNodes: wordNodes,
    priorityBadge: priorityBadge,
    findingState: findingState,
    advisoryHash: advisoryHash,
    advisoryPath: advisoryPath,
    advisoryLink: advisoryLink,
    percent: percent,
    versionChange: versionChange,
    hostCell: hostCell,
    utcDay: utcDay,
    suppressionTable: suppressionTable,
    liftSuppression: liftSuppression,
    selectBox: selectBox,
    advisorySearchForm: advisorySearchForm,
    stateCell: stateCell,
    priorityCell: priorityCell,
    advisoryCell: advisoryCell,
    packageCell: packageCell
  };
}(wardwatch));
