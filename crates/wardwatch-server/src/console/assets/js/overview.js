/*
 * wardwatch console, overview.js: the first page (#/overview): terminals online and
 * offline by department, exposure (terminals with vulnerabilities used by ransomware,
 * end-of-life systems), alerts and incidents, backup health, signature and feed
 * freshness, the two risk charts (SVG drawn by the server), and on a fresh installation
 * the first steps still to do. A department operator sees its departments only.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, api = ww.api, str = ww.str;
  var showError = ww.showError, clearError = ww.clearError, beginView = ww.beginView;
  var setTitle = ww.setTitle, dataTable = ww.dataTable, fillTable = ww.fillTable;
  var t = ww.t, i18n = ww.i18n;

  function card(id, name, value, note, kind) {
    return el('div', { className: 'summary-card ' + (kind || ''), id: id }, [
      el('span', { className: 'value' }, i18n.number(value)),
      el('span', { className: 'name' }, name),
      note ? el('span', { className: 'small muted card-note' }, note) : null
    ]);
  }

  function sum(list, field) {
    return list.reduce(function (total, d) { return total + (Number(d[field]) || 0); }, 0);
  }

  function steps(list) {
    if (!list || list.every(function (s) { return s.done; })) {
      return null;
    }
    return el('section', { id: 'first-steps', className: 'notice' }, [
      el('h2', { className: 'panel-heading' }, t('overview.steps')),
      el('p', null, t('overview.stepsNote')),
      el('ol', { className: 'steps' }, list.map(function (s) {
        return el('li', { className: s.done ? 'step done' : 'step', 'data-step': str(s.id) }, [
          el('span', { className: 'step-mark', title: s.done ? t('step.done') : t('step.todo') }, s.done ? '\u2713' : '\u25cb'),
          ' ',
          el('a', { href: str(s.link) }, t('step.' + s.id))
        ]);
      }))
    ]);
  }

  function freshnessLine(name, version, created, staleDays, now) {
    var text;
    if (typeof version !== 'number') {
      text = t('overview.none');
    } else {
      text = t('overview.version', { v: version, when: i18n.dateTime(created) });
      if (typeof created === 'number' && now - created > staleDays * 86400000) {
        text += ' \u2014 ' + t('overview.stale', { n: staleDays });
      }
    }
    return el('li', null, [el('strong', null, name + ': '), text]);
  }

  function showOverview() {
    var view = beginView('overview');
    setTitle(t('overview.title'));
    var body = el('div', { id: 'overview' }, el('p', { className: 'placeholder' }, t('overview.loading') + '\u2026'));
    append(byId('app'), [el('div', { className: 'page-head' }, [el('h1', null, t('overview.title'))]), body]);

    api('GET', '/api/overview', null, function (err, data) {
      if (!view.alive()) {
        return;
      }
      if (err) {
        showError('Could not load the overview: ' + err.message);
        return;
      }
      clearError();
      ww.clear(body);
      var departments = Array.isArray(data.departments) ? data.departments : [];
      var hosts = sum(departments, 'hosts');
      var online = sum(departments, 'online');
      var cards = [
        card('ov-hosts', t('overview.terminals'), hosts, null, 'total'),
        card('ov-online', t('overview.online'), online, null, 'online'),
        card('ov-offline', t('overview.offline'), hosts - online, null, 'offline'),
        card('ov-ransomware', t('overview.ransomwareHosts'), sum(departments, 'ransomware_hosts'), null, 'revoked'),
        card('ov-eol', t('overview.eolHosts'), sum(departments, 'eol_hosts'), null, 'revoked'),
        card('ov-unguarded', t('overview.unguarded'), hosts - sum(departments, 'guarded'), null, ''),
        card('ov-alerts', t('overview.alerts24h'), Number(data.alerts_24h) || 0,
          t('overview.urgent', { n: i18n.number(Number(data.urgent_alerts_24h) || 0) }), '')
      ];
      if (data.backups) {
        cards.push(card('ov-incidents', t('overview.incidents'), Number(data.open_incidents) || 0, null, ''));
        cards.push(card('ov-backups', t('overview.backups'), Number(data.backups.with_problems) || 0,
          t('overview.backupsOf', { n: i18n.number(Number(data.backups.hosts) || 0) }), ''));
      }
      var tbl = dataTable('overview-departments', [
        { label: t('overview.department') },
        { label: t('overview.terminals'), className: 'num shrink' },
        { label: t('overview.online'), className: 'num shrink' },
        { label: t('overview.offline'), className: 'num shrink' },
        { label: t('overview.guarded'), className: 'num shrink' },
        { label: t('overview.ransomwareHosts'), className: 'num shrink' },
        { label: t('overview.eolHosts'), className: 'num shrink' }
      ]);
      var frag = document.createDocumentFragment();
      departments.forEach(function (d) {
        var cells = [d.hosts, d.online, d.hosts - d.online, d.guarded, d.ransomware_hosts, d.eol_hosts];
        frag.appendChild(el('tr', { className: 'department-row', 'data-department': str(d.department) }, [
          el('td', null, str(d.department) || t('overview.noDepartment'))
        ].concat(cells.map(function (n) {
          return el('td', { className: 'num shrink' }, i18n.number(Number(n) || 0));
        }))));
      });
      fillTable(tbl, frag, departments.length, t('overview.noHosts'));
      var lang = i18n.lang();
      var fresh = data.freshness;
      append(body, [
        steps(data.first_steps),
        el('div', { className: 'summary', id: 'overview-cards' }, cards),
        el('h2', { className: 'panel-heading' }, t('overview.byDepartment')),
        el('div', { className: 'table-wrap' }, tbl.table),
        fresh ? el('section', { id: 'overview-freshness' }, [
          el('h2', { className: 'panel-heading' }, t('overview.freshness')),
          el('ul', null, [
            freshnessLine(t('overview.feed'), fresh.feed_version, fresh.feed_created, fresh.stale_after_days, data.now),
            freshnessLine(t('overview.signatures'), fresh.signatures_version, fresh.signatures_created, fresh.stale_after_days, data.now),
            fresh.hosts_behind_on_signatures ? el('li', null, t('overview.behind', { n: i18n.number(fresh.hosts_behind_on_signatures) })) : null
          ])
        ]) : null,
        el('h2', { className: 'panel-heading' }, t('overview.charts')),
        el('div', { className: 'charts' }, [
          el('img', { id: 'chart-risk', className: 'chart', alt: t('overview.riskChart'), src: '/api/overview/risk.svg?lang=' + lang }),
          el('img', { id: 'chart-departments', className: 'chart', alt: t('overview.deptChart'), src: '/api/overview/departments.svg?lang=' + lang })
        ])
      ]);
    });
  }

  ww.views.overview = showOverview;
}(wardwatch));
