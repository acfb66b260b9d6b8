/*
 * wardwatch console, vuln-common.js: what the vulnerability pages share: the fleet view
 * (vulns.js), the page of one CVE or advisory (advisory.js) and a host's findings tab
 * (host-findings.js). Priorities and finding states, their badges, the table cells of a
 * finding, links to advisories, the table of accepted risks and the advisory search box.
 *
 * Advisory ids, package names, versions and the feed's words are outside data: text
 * only. Class names come from the fixed lists below, never from the data. The names are
 * shared as wardwatch.vuln.
 */
(function (ww) {
  'use strict';

  var el = ww.el, isArray = ww.isArray, hasClass = ww.hasClass, str = ww.str, trim = ww.trim;
  var pad2 = ww.pad2, fullDate = ww.fullDate, relTime = ww.relTime, api = ww.api;
  var showError = ww.showError, clearError = ww.clearError, navigate = ww.navigate;
  var hostHash = ww.hostHash, dataTable = ww.dataTable, messageRow = ww.messageRow;
  var DASH = ww.DASH;

  var PRIORITIES = [
    { id: 'ransomware', title: 'Ransomware', hint: 'In CISA\u2019s KEV catalog as used by ransomware campaigns' },
    { id: 'exploited', title: 'Exploited', hint: 'In CISA\u2019s KEV catalog: exploited in the wild' },
    { id: 'likely', title: 'Likely exploited', hint: 'EPSS gives at least 10 % probability of exploitation within 30 days' },
    { id: 'severe', title: 'Severe', hint: 'Rated high or critical' },
    { id: 'other', title: 'Other', hint: 'Everything else' }
  ];
  var FINDING_STATES = [
    { id: 'open', title: 'Open' },
    { id: 'suppressed', title: 'Accepted risk' },
    { id: 'fixed', title: 'Fixed' },
    { id: 'all', title: 'All' }
  ];
  var STATE_TITLES = {
    open: 'Open: neither fixed nor accepted',
    accepted: 'Accepted risk: hidden from the open lists until the suppression expires or is lifted',
    fixed: 'Fixed: the package was upgraded or removed, or the feed no longer lists it'
  };
  var STATE_RANK = { open: 0, accepted: 1, fixed: 2 };
  var FINDING_PAGE_SIZE = 100;
  var MAX_SUPPRESSION_DAYS = 366;
  var DAY_MS = 86400000;

  function priorityDef(id) {
    var i;
    for (i = 0; i < PRIORITIES.length; i++) {
      if (PRIORITIES[i].id === id) {
        return PRIORITIES[i];
      }
    }
    return null;
  }

  function priorityBadge(priority) {
    var def = priorityDef(str(priority));
    return el('span', { className: 'prio prio-' + (def ? def.id : 'other'), title: def ? def.hint : null },
      def ? def.title : (priority ? String(priority) : DASH));
  }

  function findingState(f) {
    if (f.fixed_at !== null && f.fixed_at !== undefined) {
      return 'fixed';
    }
    return f.suppression_id !== null && f.suppression_id !== undefined ? 'accepted' : 'open';
  }

  function stateBadge(s) {
    return el('span', { className: 'fstate fstate-' + (STATE_TITLES[s] ? s : 'open'), title: STATE_TITLES[s] || null }, s);
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
    return typeof f.epss === 'number' ? el('span', { className: 'muted small', title: 'EPSS: probability of exploitation in the next 30 days' },
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
      f.fixed_version ? [' \u2192 ', el('span', { className: 'mono fixed-version', title: 'fixed in this version' }, String(f.fixed_version))] :
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
      columns.push({ label: 'Advisory' });
    }
    columns.push({ label: 'Hosts' }, { label: 'Reason' }, { label: 'Expires', className: 'shrink', title: 'At 00:00 UTC of this day' },
      { label: 'Accepted by', className: 'shrink' }, { label: 'Status', className: 'shrink' });
    if (opts.onLift) {
      columns.push({ label: '', className: 'shrink' });
    }
    var t = dataTable(id, columns);
    for (i = 0; i < list.length; i++) {
      s = list[i] || {};
      if (s.active) {
        status = el('span', { className: 'fstate fstate-accepted' }, 'active');
      } else if (s.lifted_at !== null && s.lifted_at !== undefined) {
        status = [el('span', { className: 'fstate fstate-fixed' }, 'lifted'),
          el('div', { className: 'muted small', title: fullDate(s.lifted_at) }, 'by ' + str(s.lifted_by) + ', ' + relTime(s.lifted_at))];
      } else {
        status = el('span', { className: 'fstate fstate-fixed' }, 'expired');
      }
      cells = [];
      if (opts.withAdvisory) {
        cells.push(el('td', { className: 'nowrap' }, advisoryLink(s.advisory)));
      }
      cells.push(
        el('td', { className: 'wrap' }, s.host_id ? hostCell(s.host_id, s.host_label, null) : el('span', { className: 'every-host' }, 'every host')),
        el('td', { className: 'wrap reason' }, str(s.reason)),
        el('td', { className: 'nowrap', title: 'until ' + fullDate(s.expires_at) }, utcDay(s.expires_at - 1)),
        el('td', { className: 'nowrap' }, [str(s.created_by), el('div', { className: 'muted small', title: fullDate(s.created_at) },
          str(s.role) + ', ' + relTime(s.created_at))]),
        el('td', { className: 'nowrap' }, status)
      );
      if (opts.onLift) {
        cells.push(el('td', { className: 'nowrap' }, s.active ? el('button', {
          type: 'button', className: 'btn btn-small lift-suppression', 'data-id': str(s.id),
          title: 'End this accepted risk now: its findings count as open again'
        }, 'Lift') : null));
      }
      t.tbody.appendChild(el('tr', { className: 'suppression-row' + (s.active ? '' : ' suppression-inactive'),
        'data-id': str(s.id), 'data-active': s.active ? 'true' : 'false' }, cells));
    }
    if (!list.length) {
      messageRow(t.tbody, t.columns, opts.empty || 'No accepted risks.');
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
        showError('Could not lift the accepted risk: ' + err.message);
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
      id: 'advisory-search', type: 'search', placeholder: 'CVE or advisory id, e.g. CVE-2024-3094',
      'aria-label': 'Open a CVE or advisory', autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    var form = el('form', { id: 'advisory-search-form', className: 'advisory-search', method: 'get', action: '#/vulns', novalidate: true }, [
      input,
      el('button', { id: 'advisory-search-submit', type: 'submit', className: 'btn' }, 'Open')
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
      f.source && f.source !== f.package ? el('div', { className: 'muted small' }, 'source ' + String(f.source)) : null];
  }

  ww.vuln = {
    PRIORITIES: PRIORITIES,
    FINDING_STATES: FINDING_STATES,
    STATE_TITLES: STATE_TITLES,
    STATE_RANK: STATE_RANK,
    FINDING_PAGE_SIZE: FINDING_PAGE_SIZE,
    MAX_SUPPRESSION_DAYS: MAX_SUPPRESSION_DAYS,
    DAY_MS: DAY_MS,
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
