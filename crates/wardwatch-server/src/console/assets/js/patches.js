/*
 * wardwatch console, patches.js: the Patches view (#/patches): per department and per
 * terminal the upgrades its open findings call for (planned), how many the installed
 * patches bundle holds (available), the latest installation (installed or failed) and
 * the risk the upgrades remove; "Patch now" for admins. Everything from the server is
 * text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, clear = ww.clear, isArray = ww.isArray;
  var str = ww.str, plural = ww.plural, formatCount = ww.formatCount, fullDate = ww.fullDate;
  var api = ww.api, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;
  var hostPath = ww.hostPath, state = ww.state, showMessage = ww.showMessage;

  var STATE_CLASS = { queued: 'fstate-accepted', running: 'fstate-accepted', installed: 'fstate-fixed', failed: 'fstate-open' };

  /* What the upgrades remove, most urgent first: "1 used by ransomware, 2 exploited, 5 in all". */
  function removes(x) {
    var parts = [];
    if (x.ransomware) {
      parts.push(formatCount(x.ransomware) + ' used by ransomware');
    }
    if (x.exploited) {
      parts.push(formatCount(x.exploited) + ' known exploited');
    }
    parts.push(plural(x.advisories || 0, 'advisory', 'advisories') + (parts.length ? ' in all' : ''));
    return parts.join(', ');
  }

  function bundleLine(b) {
    if (!b) {
      return el('p', { id: 'patches-bundle', className: 'notice' },
        'No patches bundle is installed. Plan with `wardwatch patch plan`, fetch on a machine with internet with `wardwatch patch fetch`, ' +
        'sign it with `wardwatch bundle build --kind patches` and import it on the Bundles page.');
    }
    var systems = isArray(b.systems) ? b.systems.map(function (s) {
      return str(s[0]) + ' (' + plural(s[1] || 0, 'package', 'packages') + ')';
    }) : [];
    return el('p', { id: 'patches-bundle', className: 'muted' }, [
      'Patches bundle version ' + str(b.version) + ' for ' + (systems.length ? systems.join(', ') : 'no system') +
        '; made ' + fullDate(b.created) + '.'
    ]);
  }

  function departmentRow(d) {
    return el('tr', { 'data-department': str(d.department) }, [
      el('td', null, str(d.department) || DASH),
      el('td', { className: 'num' }, formatCount(d.hosts)),
      el('td', { className: 'num' }, formatCount(d.upgrades)),
      el('td', { className: 'num' }, formatCount(d.available)),
      el('td', { className: 'num' }, formatCount(d.installed)),
      el('td', { className: 'num' }, formatCount(d.failed)),
      el('td', null, removes(d))
    ]);
  }

  function hostRow(h, onPatch) {
    var ups = isArray(h.upgrades) ? h.upgrades : [];
    var last = h.last_install;
    var list = el('ul', { className: 'plain' });
    ups.forEach(function (u) {
      list.appendChild(el('li', null, str(u.name) + ' ' + str(u.installed) + ' \u2192 ' +
        (u.available ? str(u.available) : str(u.fixed) + ' or later (not in the bundle)')));
    });
    return el('tr', { className: 'patch-row', 'data-host': str(h.host_id) }, [
      el('td', null, el('a', { className: 'host-link', href: hostHash(h.host_id) }, str(h.hostname || h.host_id))),
      el('td', null, str(h.department) || DASH),
      el('td', { className: 'patch-upgrades' }, ups.length ? list : el('span', { className: 'muted' }, 'nothing left to upgrade')),
      el('td', { className: 'num patch-planned' }, formatCount(ups.length)),
      el('td', { className: 'num patch-available' }, formatCount(h.available)),
      el('td', { className: 'patch-removes' }, removes(h)),
      el('td', { className: 'patch-state' }, last ? [
        el('span', { className: 'fstate ' + (STATE_CLASS[last.state] || '') }, str(last.state)),
        ' ', el('span', { className: 'muted small' }, str(last.summary))
      ] : el('span', { className: 'muted' }, 'not yet')),
      onPatch ? el('td', null, el('button', {
        type: 'button', className: 'btn patch-now', 'data-host': str(h.host_id),
        disabled: !h.available,
        title: h.available ? 'Install this terminal\u2019s upgrades from the patches bundle now' : 'The patches bundle holds none of its upgrades',
        onclick: function () { onPatch(h, this); }
      }, 'Patch now')) : null
    ]);
  }

  function showPatches() {
    var view = beginView('patches');
    var isAdmin = state.role === 'admin';
    var head = el('div', { id: 'patches-head' });
    var note = el('div', { id: 'patches-status', className: 'form-note', role: 'status', hidden: true });
    var body = el('div', { id: 'patches-body' });
    setTitle('Patches');
    append(document.getElementById('app'), [
      el('h1', null, 'Patches'),
      el('p', { className: 'legend' }, 'Upgrades that close open findings, per terminal: planned from the findings, available when the ' +
        'installed patches bundle holds them, installed or failed as the terminal reported. Terminals check Debian\u2019s signatures ' +
        'themselves, only upgrade and never remove a package.'),
      head, note, body
    ]);

    function patchNow(h, button) {
      if (!window.confirm('Install the upgrades of ' + str(h.hostname) + ' from the patches bundle now?')) {
        return;
      }
      button.disabled = true;
      api('POST', hostPath(h.host_id, '/commands'), { kind: 'patch.install', args: { dry_run: false } }, function (err) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          button.disabled = false;
          showError('Could not send the command: ' + err.message);
          return;
        }
        clearError();
        showMessage(note, 'Patch installation queued for ' + str(h.hostname) + '; its agent picks it up within about 10 seconds.');
        load();
      });
    }

    function render(data) {
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var depts = isArray(data.departments) ? data.departments : [];
      var d, t, rows;
      clear(head);
      append(head, bundleLine(data.bundle));
      clear(body);
      if (!hosts.length) {
        append(body, el('div', { className: 'notice', id: 'patches-empty' },
          'No terminal has an open finding that an upgrade fixes.'));
      } else {
        d = dataTable('patches-departments', [
          { label: 'Department' }, { label: 'Terminals', className: 'num shrink' }, { label: 'Planned', className: 'num shrink' },
          { label: 'Available', className: 'num shrink' }, { label: 'Installed', className: 'num shrink' },
          { label: 'Failed', className: 'num shrink' }, { label: 'Advisories removed' }
        ]);
        rows = document.createDocumentFragment();
        depts.forEach(function (x) { rows.appendChild(departmentRow(x)); });
        fillTable(d, rows, depts.length, '');
        t = dataTable('patches-hosts', [
          { label: 'Host' }, { label: 'Department' }, { label: 'Upgrades' }, { label: 'Planned', className: 'num shrink' },
          { label: 'Available', className: 'num shrink' }, { label: 'Advisories removed' }, { label: 'Last installation' }
        ].concat(isAdmin ? [{ label: '', className: 'shrink' }] : []));
        rows = document.createDocumentFragment();
        hosts.forEach(function (h) { rows.appendChild(hostRow(h, isAdmin ? patchNow : null)); });
        fillTable(t, rows, hosts.length, '');
        append(body, [
          el('h2', null, 'By department'), el('div', { className: 'table-wrap' }, d.table),
          el('h2', null, 'Terminals, most risk first'), el('div', { className: 'table-wrap' }, t.table)
        ]);
      }
      if (isArray(data.not_covered) && data.not_covered.length) {
        var list = el('ul', { id: 'patches-not-covered' });
        data.not_covered.forEach(function (n) {
          list.appendChild(el('li', null, str(n[0]) + ': ' + str(n[1])));
        });
        append(body, [el('h2', null, 'Not patched by bundles'), list]);
      }
    }

    function load() {
      api('GET', '/api/patches', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the patches: ' + err.message);
          return;
        }
        clearError();
        render(data || {});
      });
    }
    var placeholder = dataTable('patches-loading', [{ label: 'Host' }]);
    loadingRow(placeholder, 'Loading patches');
    append(body, placeholder.table);
    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.patches = showPatches;
}(wardwatch));
