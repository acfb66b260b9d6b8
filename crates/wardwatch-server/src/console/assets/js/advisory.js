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

  function remedyText(remedy, fallback) {
    var kind = remedy && typeof remedy === 'object' ? str(remedy.kind) : '';
    if (kind === 'fixed-in') {
      return 'Upgrade to ' + str(remedy.version) + ' or later';
    }
    if (kind === 'fixed-after') {
      return 'Upgrade past ' + str(remedy.version) + ' (the last affected version)';
    }
    if (kind === 'no-fix-yet') {
      return 'No fix yet: mitigate, or accept the risk until a fix is published';
    }
    if (kind === 'will-not-fix') {
      return 'The distribution will not fix it in this release' + (remedy.reason ? ' (' + String(remedy.reason) + ')' : '') +
        ': mitigate or accept the risk';
    }
    if (kind === 'upgrade-os') {
      return 'Upgrade the operating system to a supported release' +
        (remedy.extended_until ? ' (extended support until ' + String(remedy.extended_until) + ')' : '');
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
    var body = el('div', { id: 'advisory-body' }, el('p', { className: 'placeholder' }, 'Loading' + ELLIPSIS));

    /* The accept-a-risk form is built once, so that a reload does not lose what is typed. */
    var reason = el('textarea', { id: 'suppress-reason', rows: 3, maxlength: 2000, placeholder: 'Why the risk is accepted, e.g. the device is isolated on VLAN 40 until the vendor ships a fix' });
    var today = now();
    var expires = el('input', { id: 'suppress-expires', type: 'date', min: utcDay(today), max: utcDay(today + (MAX_SUPPRESSION_DAYS - 1) * DAY_MS) });
    var hostSelect = el('select', { id: 'suppress-host' }, el('option', { value: '' }, 'Every host'));
    var submit = el('button', { id: 'suppress-submit', type: 'submit', className: 'btn btn-primary' }, 'Accept the risk');
    var formError = el('div', { id: 'suppress-error', className: 'form-error', role: 'alert', hidden: true });
    var formNote = el('div', { id: 'suppress-status', className: 'form-note', role: 'status', hidden: true });
    var form = el('form', { id: 'suppress-form', className: 'bundle-form suppress-form', method: 'post', action: '#/vulns', novalidate: true }, [
      formNote,
      formError,
      el('div', { className: 'field' }, [el('label', { 'for': 'suppress-reason' }, 'Reason'), reason]),
      el('div', { className: 'field-row' }, [
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-expires' }, 'Through (last UTC day it applies, within ' + MAX_SUPPRESSION_DAYS + ' days)'), expires]),
        el('div', { className: 'field' }, [el('label', { 'for': 'suppress-host' }, 'Hosts'), hostSelect])
      ]),
      submit,
      el('p', { className: 'muted small' }, 'Accepted findings leave the open lists and counts until the day they expire. ' +
        'The reason, the account and the date go into the audit record.')
    ]);
    var accept = el('section', { className: 'vuln-section', id: 'advisory-accept' }, [
      el('h2', null, 'Accept the risk'),
      isAdmin ? form : el('p', { className: 'muted', id: 'suppress-viewer-note' },
        'Only an admin account can accept a risk; you are signed in as ' + roleText() + '.')
    ]);

    append(app, el('div', { id: 'advisory-view' }, [
      backLink('#/vulns', 'Vulnerabilities'),
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
          el('p', { className: 'muted' }, 'The matcher\u2019s evidence for this advisory is not stored.')
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
          fact('cves', 'CVE ids', cves.length ? cves : orDash('')),
          fact('severity', 'Severity', sev ? [str(sev.level), sev.label && String(sev.label).toLowerCase() !== str(sev.level) ?
            el('span', { className: 'muted' }, ' (' + String(sev.label) + ')') : null] : orDash('')),
          fact('kev', 'Known exploited (CISA KEV)', [yesNo(ex.known_exploited),
            ex.kev_date_added ? el('span', { className: 'muted' }, ' since ' + String(ex.kev_date_added)) : null]),
          fact('ransomware', 'Used by ransomware', ex.ransomware ? el('span', { className: 'flag flag-ransomware' }, 'yes') : yesNo(false)),
          fact('epss', 'EPSS', ex.epss && typeof ex.epss.score === 'number' ?
            [percent(ex.epss.score), el('span', { className: 'muted' }, ' (percentile ' + percent(ex.epss.percentile || 0) + ')')] :
            el('span', { className: 'empty' }, 'not scored')),
          fact('remedy', 'Remedy', remedyText(d.remedy, row ? row.remedy : ''), true),
          fact('record', 'Feed record', d.why ? str(d.why.record) : orDash(''), true),
          fact('range', 'Affected range', d.why ? str(d.why.range) : orDash(''), true),
          fact('comparison', 'Comparison' + (row ? ' (on ' + (row.hostname || row.host_id) + ')' : ''),
            d.why ? el('span', { className: 'mono' }, str(d.why.comparison)) : orDash(''), true)
        ])
      ]);
    }

    function hostsTable(list, several) {
      var columns = [{ label: 'Host' }, { label: 'Department' }];
      if (several) {
        columns.push({ label: 'Advisory' });
      }
      columns.push({ label: 'Package' }, { label: 'Installed \u2192 fixed' }, { label: 'State', className: 'shrink' },
        { label: 'First seen', className: 'shrink' });
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
        messageRow(t.tbody, t.columns, 'No host has or had this finding.');
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
      hostSelect.appendChild(el('option', { value: '' }, 'Every host'));
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
          el('p', null, ['No host of this fleet has or had a finding for ', el('span', { className: 'mono' }, advisoryId), '.']),
          el('p', { className: 'muted' }, 'Check the id (e.g. CVE-2024-3094 or DEBIAN-CVE-2024-3094). The feed may not list it, or no installed package is affected.')
        ]) : null,
        list.length ? el('div', { className: 'summary', id: 'advisory-counts' }, [
          countCard('open', 'Open', counts.open),
          countCard('suppressed', 'Accepted risk', counts.suppressed),
          countCard('fixed', 'Fixed', counts.fixed)
        ]) : null,
        details,
        list.length ? el('section', { className: 'vuln-section', id: 'advisory-hosts-section' }, [
          el('h2', null, 'Hosts' + (data.total > list.length ? ' (the first ' + list.length + ' of ' + data.total + ')' : '')),
          hostsTable(list, keys.length > 1)
        ]) : null,
        el('section', { className: 'vuln-section', id: 'advisory-suppressions-section' }, [
          el('h2', null, 'Accepted risks'),
          suppressionTable('advisory-suppressions', mine, {
            withAdvisory: mine.length > 0 && (keys.length > 1 || hasOtherId(mine)),
            empty: 'No risk has been accepted for this advisory.',
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
      function fail(err, what) {
        if (failed) {
          return;
        }
        failed = true;
        loading = false;
        showError('Could not load ' + what + ': ' + err.message);
        clear(body);
        append(body, noticeWithLink('advisory-error', sentence(err.message), '#/vulns', 'Back to the vulnerabilities'));
      }
      api('GET', advisoryPath(advisoryId), null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          fail(err, 'the advisory');
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
          fail(err, 'the accepted risks');
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
        var s;
        if (!view.alive()) {
          return;
        }
        submit.disabled = false;
        if (err) {
          showMessage(formError, sentence(err.message));
          return;
        }
        s = data && data.suppression ? data.suppression : {};
        showMessage(formNote, 'Risk accepted for ' + (s.host_id ? (s.host_label ? String(s.host_label) : String(s.host_id)) : 'every host') +
          ' through ' + (typeof s.expires_at === 'number' ? utcDay(s.expires_at - 1) : trim(expires.value)) + ' (accepted risk #' + str(s.id) + ').');
        reason.value = '';
        load();
      });
    }, false);

    load();
  }

  ww.views.advisory = showAdvisory;
}(wardwatch));
