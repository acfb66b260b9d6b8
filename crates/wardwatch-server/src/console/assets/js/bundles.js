/*
 * wardwatch console, bundles.js: the signed offline bundles (#/bundles): what is
 * installed of each kind (counted over the whole fleet), the upload form, the stale-data
 * setting, the version each host runs and the recent imports. The hosts are searched,
 * filtered by department and by "behind only", and paged (50 at a time) by the server,
 * the list's state kept in the URL. Kind names come from a fixed list; everything else
 * is text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var trim = ww.trim, formatBytes = ww.formatBytes, sentence = ww.sentence;
  var now = ww.now, shortDate = ww.shortDate, fullDate = ww.fullDate, dateCell = ww.dateCell;
  var api = ww.api, errorMessage = ww.errorMessage, noteServerClock = ww.noteServerClock;
  var sessionEnded = ww.sessionEnded, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var ELLIPSIS = ww.ELLIPSIS, DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS, formatCount = ww.formatCount;
  var encodeQuery = ww.encodeQuery, messageRow = ww.messageRow;

  ww.i18n.add({
    en: {
      'bundles.title': 'Bundles',
      'bundles.intro': 'Signed offline bundles carry vulnerability data, malware signatures, policies and patches into the hospital network. Each is checked completely (trusted signature, newer than what is installed, not expired, every file) before it is installed; agents fetch it from this server.',
      'bundles.kind.vulnFeed': 'Vulnerability data', 'bundles.kind.signatures': 'Malware signatures',
      'bundles.kind.policies': 'Policies', 'bundles.kind.patches': 'Patches',
      'bundles.col.kind': 'Kind', 'bundles.col.version': 'Version', 'bundles.col.created': 'Created',
      'bundles.col.createdTitle': 'When the publisher built the bundle', 'bundles.col.expires': 'Expires',
      'bundles.col.imported': 'Imported', 'bundles.col.by': 'By', 'bundles.col.content': 'Content', 'bundles.col.hosts': 'Hosts',
      'bundles.col.hostsTitle': 'Hosts running this version / behind / not reported',
      'bundles.col.host': 'Host', 'bundles.col.department': 'Department', 'bundles.col.key': 'Signed by key',
      'bundles.loading': 'Loading bundles', 'bundles.loadingHosts': 'Loading hosts',
      'bundles.loadFailed': 'Could not load the bundles: {error}',
      'bundles.installed': 'Installed', 'bundles.import': 'Import a bundle', 'bundles.stale': 'Stale data warning',
      'bundles.onHosts': 'Versions on the hosts', 'bundles.history': 'Recent imports',
      'bundles.hostsLegend': 'Highlighted: hosts that run an older version than the server has installed. A dash: the host has not reported that kind.',
      'bundles.file': 'Bundle file', 'bundles.submit': 'Import bundle', 'bundles.checking': 'Checking',
      'bundles.days': 'Days', 'bundles.save': 'Save',
      'bundles.staleBefore': 'Warn when the newest installed data of a kind is older than ', 'bundles.staleAfter': ' days ',
      'bundles.notRecorded': 'not recorded', 'bundles.notInstalled': 'Not installed', 'bundles.expiredFlag': 'expired',
      'bundles.keysUnreadable': 'The trusted publisher keys cannot be read, so no bundle can be imported: {error}',
      'bundles.noKeys': 'No publisher key is trusted yet, so every bundle is refused. On the server, run: wardwatch bundle trust add PUBLISHER.pub',
      'bundles.expired': '{kind}: the installed bundle (version {version}) expired on {date}. Import a newer bundle.',
      'bundles.staleWarning': '{kind}: the newest installed data (version {version}) was created {age} ago, more than the {limit} set below. Import a newer bundle.',
      'bundles.dayCount.one': '{n} day', 'bundles.dayCount.many': '{n} days',
      'bundles.content.one': '{n} file, {size}', 'bundles.content.many': '{n} files, {size}',
      'bundles.key': 'key {id}', 'bundles.current': 'running this version', 'bundles.behind': 'behind',
      'bundles.notReported': 'not reported', 'bundles.reported': 'reported {when}',
      'bundles.olderThanInstalled': '; older than the installed version',
      'bundles.noHosts': 'No hosts have enrolled yet.', 'bundles.noHistory': 'No bundle has been imported yet.',
      'bundles.trustedKeys': 'Trusted publisher keys: {keys}. ',
      'bundles.largeImport': 'Bundles larger than {size} are imported on the server with: wardwatch bundle import FILE',
      'bundles.chooseFile': 'Choose a bundle file first.',
      'bundles.tooLarge': 'This file is larger than the upload limit of {size}. Import it on the server with: wardwatch bundle import FILE',
      'bundles.uploading': 'Uploading {file}', 'bundles.uploadingPercent': 'Uploading {file}: {percent} %',
      'bundles.checkingFile': 'Checking {file}',
      'bundles.unreachable': 'The upload did not reach the wardwatch server. Check the network connection and try again.',
      'bundles.notSent': 'The upload could not be sent: {error}',
      'bundles.refused': 'Refused: {error} Nothing was installed.',
      'bundles.done': 'Imported {kind} version {version}{replaced}. Agents fetch it from now on.',
      'bundles.replacing': ' (replacing version {version})',
      'bundles.badDays': 'Enter a whole number of days from 1 to 3650.',
      'bundles.notSaved': 'Not saved: {error}', 'bundles.saved': 'Saved.',
      'bundles.searchPlaceholder': 'Search name, label or department', 'bundles.searchLabel': 'Search hosts',
      'bundles.behindOnly': 'Behind only',
      'bundles.behindOnlyTitle': 'Only hosts that run an older version than the server has installed, or have not reported one',
      'bundles.noMatch': 'No host matches the filter.', 'bundles.emptyPage': 'No hosts on this page.',
      'bundles.showing.one': 'Showing {from}\u2013{to} of {n} host',
      'bundles.showing.many': 'Showing {from}\u2013{to} of {n} hosts'
    },
    zh: {
      'bundles.title': '更新包',
      'bundles.intro': '签名的离线更新包把漏洞库、病毒特征库、策略和补丁带进医院内网。每个更新包安装前都会完整校验（签名可信、比已安装的版本新、未过期、每个文件无误）；代理从本服务器获取。',
      'bundles.kind.vulnFeed': '漏洞库', 'bundles.kind.signatures': '病毒特征库',
      'bundles.kind.policies': '策略', 'bundles.kind.patches': '补丁',
      'bundles.col.kind': '类型', 'bundles.col.version': '版本', 'bundles.col.created': '生成时间',
      'bundles.col.createdTitle': '发布方生成更新包的时间', 'bundles.col.expires': '到期时间',
      'bundles.col.imported': '导入时间', 'bundles.col.by': '导入人', 'bundles.col.content': '内容', 'bundles.col.hosts': '终端',
      'bundles.col.hostsTitle': '运行此版本 / 版本落后 / 未上报的终端数',
      'bundles.col.host': '终端', 'bundles.col.department': '科室', 'bundles.col.key': '签名密钥',
      'bundles.loading': '正在加载更新包', 'bundles.loadingHosts': '正在加载终端',
      'bundles.loadFailed': '无法加载更新包：{error}',
      'bundles.installed': '已安装', 'bundles.import': '导入更新包', 'bundles.stale': '数据过旧提醒',
      'bundles.onHosts': '各终端上的版本', 'bundles.history': '最近导入',
      'bundles.hostsLegend': '高亮：终端运行的版本比服务器已安装的旧。短横线：终端尚未上报该类数据。',
      'bundles.file': '更新包文件', 'bundles.submit': '导入更新包', 'bundles.checking': '正在校验',
      'bundles.days': '天数', 'bundles.save': '保存',
      'bundles.staleBefore': '某类已安装的最新数据超过 ', 'bundles.staleAfter': ' 天时提醒 ',
      'bundles.notRecorded': '未记录', 'bundles.notInstalled': '未安装', 'bundles.expiredFlag': '已过期',
      'bundles.keysUnreadable': '无法读取受信任的发布方密钥，因此无法导入任何更新包：{error}',
      'bundles.noKeys': '尚未信任任何发布方密钥，所有更新包都会被拒绝。请在服务器上运行：wardwatch bundle trust add PUBLISHER.pub',
      'bundles.expired': '{kind}：已安装的更新包（版本 {version}）已于 {date} 过期。请导入新版更新包。',
      'bundles.staleWarning': '{kind}：已安装的最新数据（版本 {version}）生成于 {age}前，超过下方设置的 {limit}。请导入新版更新包。',
      'bundles.dayCount.one': '{n} 天', 'bundles.dayCount.many': '{n} 天',
      'bundles.content.one': '{n} 个文件，{size}', 'bundles.content.many': '{n} 个文件，{size}',
      'bundles.key': '密钥 {id}', 'bundles.current': '运行此版本', 'bundles.behind': '版本落后',
      'bundles.notReported': '未上报', 'bundles.reported': '上报于 {when}',
      'bundles.olderThanInstalled': '；比已安装的版本旧',
      'bundles.noHosts': '尚未接入终端。', 'bundles.noHistory': '尚未导入任何更新包。',
      'bundles.trustedKeys': '受信任的发布方密钥：{keys}。',
      'bundles.largeImport': '大于 {size} 的更新包请在服务器上导入：wardwatch bundle import FILE',
      'bundles.chooseFile': '请先选择更新包文件。',
      'bundles.tooLarge': '此文件超过上传上限 {size}。请在服务器上导入：wardwatch bundle import FILE',
      'bundles.uploading': '正在上传 {file}', 'bundles.uploadingPercent': '正在上传 {file}：{percent}%',
      'bundles.checkingFile': '正在校验 {file}',
      'bundles.unreachable': '上传未能到达 wardwatch 服务器。请检查网络连接后重试。',
      'bundles.notSent': '无法发送上传的文件：{error}',
      'bundles.refused': '已拒绝：{error} 未安装任何内容。',
      'bundles.done': '已导入{kind}，版本 {version}{replaced}。代理此后会获取此版本。',
      'bundles.replacing': '（替换版本 {version}）',
      'bundles.badDays': '请输入 1 到 3650 之间的整数天数。',
      'bundles.notSaved': '未保存：{error}', 'bundles.saved': '已保存。',
      'bundles.searchPlaceholder': '搜索名称、标签或科室', 'bundles.searchLabel': '搜索终端',
      'bundles.behindOnly': '仅显示版本落后',
      'bundles.behindOnlyTitle': '仅显示运行的版本比服务器已安装的旧、或尚未上报版本的终端',
      'bundles.noMatch': '没有符合筛选条件的终端。', 'bundles.emptyPage': '本页没有终端。',
      'bundles.showing.one': '第 {from}–{to} 台，共 {n} 台终端',
      'bundles.showing.many': '第 {from}–{to} 台，共 {n} 台终端'
    }
  });

  var BUNDLE_KINDS = ['vuln-feed', 'signatures', 'policies', 'patches'];
  var BUNDLE_KIND_TITLES = { // the word each kind is shown as
    'vuln-feed': 'bundles.kind.vulnFeed',
    signatures: 'bundles.kind.signatures',
    policies: 'bundles.kind.policies',
    patches: 'bundles.kind.patches'
  };
  var BUNDLE_HISTORY_ROWS = 20;
  var PAGE_SIZE = 50;
  /* The hosts' list state in the URL (lib.js listFromUrl). */
  var LIST = { base: '#/bundles', filters: { department: 200, behind: ['', 'true'] } };

  function kindTitle(kind) {
    return Object.prototype.hasOwnProperty.call(BUNDLE_KIND_TITLES, kind) ? ww.t(BUNDLE_KIND_TITLES[kind]) : String(kind);
  }

  /* "3 files, 1.2 MB", "12 days": KEY.one or KEY.many (English), with n grouped as the language does. */
  function counted(key, n, params) {
    var p = params || {};
    p.n = formatCount(n);
    return ww.t(key + (n === 1 ? '.one' : '.many'), p);
  }

  /* POST /api/bundles with the file itself as the body (XMLHttpRequest sends a File as
     its bytes); callback(error, data) like api(). */
  function uploadBundle(file, onProgress, callback) {
    var xhr = new XMLHttpRequest();
    var finished = false;
    function finish(err, data) {
      if (!finished) {
        finished = true;
        callback(err, data);
      }
    }
    xhr.open('POST', '/api/bundles', true);
    xhr.setRequestHeader('X-Wardwatch-Console', '1');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-Bundle-Filename', encodeURIComponent(file.name || ''));
    if (xhr.upload && onProgress) {
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          onProgress(ev.loaded, ev.total);
        }
      };
    }
    xhr.onreadystatechange = function () {
      var data = null;
      if (xhr.readyState !== 4 || finished) {
        return;
      }
      if (xhr.status === 0) {
        finish({ status: 0, message: ww.t('bundles.unreachable') });
        return;
      }
      noteServerClock(xhr);
      if (xhr.responseText) {
        try {
          data = JSON.parse(xhr.responseText);
        } catch (e) {
          data = null;
        }
      }
      if (xhr.status === 401) {
        finished = true;
        sessionEnded();
        return;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        finish(null, data || {});
      } else {
        finish({ status: xhr.status, message: errorMessage(xhr.status, data) });
      }
    };
    try {
      xhr.send(file);
    } catch (e) {
      finish({ status: 0, message: ww.t('bundles.notSent', { error: e.message }) });
    }
  }

  function showBundles(query) {
    var view = beginView('bundles');
    var list = ww.listFromUrl(query, LIST);
    var data = null;
    var loading = false;
    var uploading = false;
    setTitle(ww.t('bundles.title'));

    var warnings = el('div', { id: 'bundles-warnings' });
    var installed = dataTable('bundles-installed', [
      { label: ww.t('bundles.col.kind') },
      { label: ww.t('bundles.col.version'), className: 'num shrink' },
      { label: ww.t('bundles.col.created'), className: 'shrink', title: ww.t('bundles.col.createdTitle') },
      { label: ww.t('bundles.col.expires'), className: 'shrink' },
      { label: ww.t('bundles.col.imported'), className: 'shrink' },
      { label: ww.t('bundles.col.by'), className: 'shrink' },
      { label: ww.t('bundles.col.content') },
      { label: ww.t('bundles.col.hosts'), title: ww.t('bundles.col.hostsTitle') }
    ]);
    loadingRow(installed, ww.t('bundles.loading'));

    var fileInput = el('input', { id: 'bundle-file', type: 'file', name: 'bundle', accept: '.wwb,.bundle,application/octet-stream' });
    var uploadButton = el('button', { id: 'bundle-upload-submit', type: 'submit', className: 'btn btn-primary' }, ww.t('bundles.submit'));
    var uploadNote = el('div', { id: 'bundle-upload-status', className: 'form-note', role: 'status', hidden: true });
    var uploadError = el('div', { id: 'bundle-upload-error', className: 'form-error', role: 'alert', hidden: true });
    var keysNote = el('p', { id: 'bundle-keys', className: 'muted small' });
    var uploadForm = el('form', { id: 'bundle-upload-form', className: 'bundle-form', method: 'post', action: '#/bundles', novalidate: true }, [
      uploadNote,
      uploadError,
      el('div', { className: 'field' }, [el('label', { 'for': 'bundle-file' }, ww.t('bundles.file')), fileInput]),
      uploadButton,
      keysNote
    ]);

    var staleInput = el('input', { id: 'bundle-stale-days', type: 'text', inputmode: 'numeric', maxlength: 4, className: 'short-input', 'aria-label': ww.t('bundles.days') });
    var staleButton = el('button', { id: 'bundle-stale-save', type: 'submit', className: 'btn btn-small' }, ww.t('bundles.save'));
    var staleNote = el('span', { id: 'bundle-stale-status', className: 'muted small' });
    var staleForm = el('form', { id: 'bundle-stale-form', className: 'inline-form', method: 'post', action: '#/bundles', novalidate: true }, [
      el('label', { 'for': 'bundle-stale-days' }, ww.t('bundles.staleBefore')),
      staleInput, ww.t('bundles.staleAfter'), staleButton, ' ', staleNote
    ]);

    var hostColumns = [{ label: ww.t('bundles.col.host') }, { label: ww.t('bundles.col.department') }];
    var i;
    for (i = 0; i < BUNDLE_KINDS.length; i++) {
      hostColumns.push({ label: kindTitle(BUNDLE_KINDS[i]), className: 'shrink' });
    }
    var hostsTable = dataTable('bundles-hosts', hostColumns);
    loadingRow(hostsTable, ww.t('bundles.loadingHosts'));
    /* The hosts' search, filters and pages stay in place while the answers change around
       them (typing must not lose the box). */
    var filter = el('input', {
      id: 'bundles-search', type: 'search', placeholder: ww.t('bundles.searchPlaceholder'),
      'aria-label': ww.t('bundles.searchLabel'), autocomplete: 'off', spellcheck: 'false', maxlength: 200
    });
    filter.value = list.q;
    var departmentInput = el('input', { id: 'bundles-department', type: 'search', placeholder: ww.t('bundles.col.department'),
      'aria-label': ww.t('bundles.col.department'), maxlength: 200, value: list.department });
    var behindBox = el('input', { id: 'bundles-behind', type: 'checkbox', value: 'true', checked: list.behind === 'true' });
    behindBox.checked = list.behind === 'true';
    var shownInfo = el('span', { className: 'info', id: 'bundles-shown' });
    var prev = el('button', { type: 'button', className: 'btn btn-small', id: 'bundles-prev' }, ww.t('common.prev'));
    var next = el('button', { type: 'button', className: 'btn btn-small', id: 'bundles-next' }, ww.t('common.next'));
    prev.disabled = list.page <= 1;
    next.disabled = true;
    var history = dataTable('bundles-history', [
      { label: ww.t('bundles.col.imported'), className: 'shrink' },
      { label: ww.t('bundles.col.kind') },
      { label: ww.t('bundles.col.version'), className: 'num shrink' },
      { label: ww.t('bundles.col.by'), className: 'shrink' },
      { label: ww.t('bundles.col.key'), className: 'shrink' },
      { label: ww.t('bundles.col.content') }
    ]);

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('bundles.title'))]),
      el('p', { className: 'muted' }, ww.t('bundles.intro')),
      warnings,
      el('div', { className: 'bundle-section' }, [el('h2', null, ww.t('bundles.installed')), el('div', { className: 'table-wrap' }, installed.table)]),
      el('div', { className: 'bundle-columns' }, [
        el('div', { className: 'bundle-section' }, [el('h2', null, ww.t('bundles.import')), uploadForm]),
        el('div', { className: 'bundle-section' }, [el('h2', null, ww.t('bundles.stale')), staleForm])
      ]),
      el('div', { className: 'bundle-section' }, [el('h2', null, ww.t('bundles.onHosts')),
        el('div', { className: 'toolbar' }, [
          el('div', { className: 'filter' }, filter),
          departmentInput,
          el('label', { 'for': 'bundles-behind', className: 'info', title: ww.t('bundles.behindOnlyTitle') },
            [behindBox, ' ', ww.t('bundles.behindOnly')]),
          shownInfo,
          el('span', { className: 'spacer' }),
          prev, next
        ]),
        el('div', { className: 'table-wrap' }, hostsTable.table),
        el('p', { className: 'legend' }, ww.t('bundles.hostsLegend'))]),
      el('div', { className: 'bundle-section' }, [el('h2', null, ww.t('bundles.history')), el('div', { className: 'table-wrap' }, history.table)])
    ]);

    /* The URL holds the list's state, so a filtered list can be bookmarked and shared;
       replaced in place, so that typing does not fill the history or reload the view. */
    function rememberAndReload() {
      ww.keepListInUrl(list, LIST, false, load);
    }

    function recorded(ms) {
      return dateCell(ms, ww.t('bundles.notRecorded'));
    }

    function renderWarnings() {
      var k, kv, age;
      clear(warnings);
      if (data.trusted_keys_error) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          ww.t('bundles.keysUnreadable', { error: String(data.trusted_keys_error) })));
      } else if (!isArray(data.trusted_keys) || data.trusted_keys.length === 0) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          ww.t('bundles.noKeys')));
      }
      for (k = 0; k < data.kinds.length; k++) {
        kv = data.kinds[k] || {};
        if (!kv.installed) {
          continue;
        }
        if (kv.expired) {
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            ww.t('bundles.expired', { kind: kindTitle(kv.kind), version: kv.installed.version, date: shortDate(kv.installed.expires) })));
        } else if (kv.stale) {
          age = Math.floor((now() - kv.installed.created) / 86400000);
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            ww.t('bundles.staleWarning', {
              kind: kindTitle(kv.kind), version: kv.installed.version,
              age: counted('bundles.dayCount', age), limit: counted('bundles.dayCount', data.stale_after_days)
            })));
        }
      }
    }

    function renderInstalled() {
      var k, kv, b, rows = document.createDocumentFragment();
      for (k = 0; k < data.kinds.length; k++) {
        kv = data.kinds[k] || {};
        b = kv.installed;
        if (!b) {
          rows.appendChild(el('tr', { className: 'bundle-row bundle-missing', 'data-kind': str(kv.kind) }, [
            el('td', null, kindTitle(kv.kind)),
            el('td', { colspan: installed.columns - 1, className: 'muted' }, ww.t('bundles.notInstalled'))
          ]));
          continue;
        }
        rows.appendChild(el('tr', {
          className: 'bundle-row' + (kv.stale || kv.expired ? ' bundle-stale-row' : ''),
          'data-kind': str(kv.kind), 'data-version': str(b.version)
        }, [
          el('td', null, [kindTitle(kv.kind), el('div', { className: 'muted small mono' }, str(kv.kind))]),
          el('td', { className: 'num bundle-version' }, str(b.version)),
          el('td', { className: 'nowrap' }, recorded(b.created)),
          el('td', { className: 'nowrap' }, [recorded(b.expires), kv.expired ? el('span', { className: 'flag' }, ww.t('bundles.expiredFlag')) : null]),
          el('td', { className: 'nowrap' }, recorded(b.imported_at)),
          el('td', { className: 'nowrap' }, orDash(b.imported_by)),
          el('td', null, [counted('bundles.content', b.members, { size: formatBytes(b.total_size) }),
            b.key_id ? el('div', { className: 'muted small mono' }, ww.t('bundles.key', { id: String(b.key_id) })) : null]),
          el('td', { className: 'nowrap' }, [
            el('span', { title: ww.t('bundles.current') }, formatCount(kv.hosts_current)), ' / ',
            el('span', { className: kv.hosts_behind ? 'version-behind' : null, title: ww.t('bundles.behind') }, formatCount(kv.hosts_behind)), ' / ',
            el('span', { className: 'muted', title: ww.t('bundles.notReported') }, formatCount(kv.hosts_not_reported))
          ])
        ]));
      }
      clear(installed.tbody);
      installed.tbody.appendChild(rows);
    }

    function renderHosts() {
      var rows = document.createDocumentFragment();
      var h, host, k, kind, v, cells, behind;
      var hosts = isArray(data.hosts) ? data.hosts : [];
      var total = typeof data.hosts_total === 'number' ? data.hosts_total : hosts.length;
      var filtered = list.q || list.department || list.behind;
      for (h = 0; h < hosts.length; h++) {
        host = hosts[h] || {};
        behind = isArray(host.behind) && host.behind.length > 0;
        cells = [
          el('td', { className: 'wrap' }, el('a', { className: 'host-link', href: hostHash(host.id) },
            host.hostname ? String(host.hostname) : str(host.id))),
          el('td', { className: 'wrap' }, orDash(host.department))
        ];
        for (k = 0; k < BUNDLE_KINDS.length; k++) {
          kind = BUNDLE_KINDS[k];
          v = host.bundles && Object.prototype.hasOwnProperty.call(host.bundles, kind) ? host.bundles[kind] : null;
          cells.push(el('td', { className: 'num', 'data-kind': kind },
            v ? el('span', {
              className: v.behind ? 'version-behind' : 'version-current',
              title: ww.t('bundles.reported', { when: fullDate(v.reported_at) }) + (v.behind ? ww.t('bundles.olderThanInstalled') : '')
            }, String(v.version)) : el('span', { className: 'empty', title: ww.t('bundles.notReported') }, DASH)));
        }
        rows.appendChild(el('tr', {
          className: 'bundle-host-row' + (behind ? ' host-behind' : ''),
          'data-host-id': str(host.id), 'data-behind': behind ? 'true' : 'false'
        }, cells));
      }
      clear(hostsTable.tbody);
      if (hosts.length) {
        hostsTable.tbody.appendChild(rows);
      } else {
        messageRow(hostsTable.tbody, hostsTable.columns, total ? ww.t('bundles.emptyPage') :
          (filtered ? ww.t('bundles.noMatch') : ww.t('bundles.noHosts')));
      }
      ww.showPage(list, PAGE_SIZE, hosts.length, total, shownInfo, prev, next, 'bundles.showing');
    }

    function renderHistory() {
      var rows = document.createDocumentFragment();
      var list = isArray(data.history) ? data.history : [];
      var j, b;
      for (j = 0; j < list.length && j < BUNDLE_HISTORY_ROWS; j++) {
        b = list[j] || {};
        rows.appendChild(el('tr', null, [
          el('td', { className: 'nowrap' }, recorded(b.imported_at)),
          el('td', null, kindTitle(b.kind)),
          el('td', { className: 'num' }, str(b.version)),
          el('td', { className: 'nowrap' }, orDash(b.imported_by)),
          el('td', { className: 'nowrap mono small' }, orDash(b.key_id)),
          el('td', null, counted('bundles.content', b.member_count, { size: formatBytes(b.total_size) }))
        ]));
      }
      fillTable(history, rows, list.length, ww.t('bundles.noHistory'));
    }

    function render() {
      var keys = isArray(data.trusted_keys) ? data.trusted_keys : [];
      renderWarnings();
      renderInstalled();
      renderHosts();
      renderHistory();
      setText(keysNote, (keys.length ? ww.t('bundles.trustedKeys', { keys: keys.join(', ') }) : '') +
        ww.t('bundles.largeImport', { size: formatBytes(data.max_upload_bytes) }));
      if (document.activeElement !== staleInput && !staleInput.getAttribute('data-edited')) {
        staleInput.value = String(data.stale_after_days);
      }
    }

    /* The request for the page the hosts' list is on. */
    function listPath() {
      return '/api/bundles' + encodeQuery({
        q: list.q, department: list.department, behind: list.behind,
        limit: PAGE_SIZE, offset: (list.page - 1) * PAGE_SIZE
      });
    }

    /* One request at a time; when the list changed while one was on its way, its answer
       is dropped and the page the list is on now asked for. */
    function load() {
      var path;
      if (loading) {
        return;
      }
      loading = true;
      path = listPath();
      api('GET', path, null, function (err, result) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (path !== listPath()) {
          load();
          return;
        }
        if (err) {
          showError(ww.t('bundles.loadFailed', { error: err.message }));
          return;
        }
        data = result || {};
        if (!isArray(data.kinds)) {
          data.kinds = [];
        }
        clearError();
        render();
      });
    }

    uploadForm.addEventListener('submit', function (ev) {
      var file = fileInput.files && fileInput.files.length ? fileInput.files[0] : null;
      ev.preventDefault();
      if (uploading) {
        return;
      }
      showMessage(uploadError, '');
      showMessage(uploadNote, '');
      if (!file) {
        showMessage(uploadError, ww.t('bundles.chooseFile'));
        return;
      }
      if (data && typeof data.max_upload_bytes === 'number' && file.size > data.max_upload_bytes) {
        showMessage(uploadError, ww.t('bundles.tooLarge', { size: formatBytes(data.max_upload_bytes) }));
        return;
      }
      uploading = true;
      uploadButton.disabled = true;
      setText(uploadButton, ww.t('bundles.checking') + ELLIPSIS);
      showMessage(uploadNote, ww.t('bundles.uploading', { file: file.name }) + ELLIPSIS);
      uploadBundle(file, function (loaded, total) {
        if (view.alive() && loaded < total) {
          showMessage(uploadNote, ww.t('bundles.uploadingPercent', { file: file.name, percent: Math.floor(loaded * 100 / total) }));
        } else if (view.alive()) {
          showMessage(uploadNote, ww.t('bundles.checkingFile', { file: file.name }) + ELLIPSIS);
        }
      }, function (err, result) {
        var b;
        uploading = false;
        if (!view.alive()) {
          return;
        }
        uploadButton.disabled = false;
        setText(uploadButton, ww.t('bundles.submit'));
        if (err) {
          showMessage(uploadNote, '');
          showMessage(uploadError, ww.t('bundles.refused', { error: sentence(err.message) }));
          return;
        }
        b = result && result.bundle ? result.bundle : {};
        showMessage(uploadNote, ww.t('bundles.done', {
          kind: kindTitle(b.kind), version: str(b.version),
          replaced: typeof result.replaced_version === 'number' ? ww.t('bundles.replacing', { version: result.replaced_version }) : ''
        }));
        try {
          fileInput.value = '';
        } catch (e) { /* some old browsers do not allow it */ }
        load();
      });
    }, false);

    staleInput.addEventListener('input', function () {
      staleInput.setAttribute('data-edited', 'true');
    }, false);

    staleForm.addEventListener('submit', function (ev) {
      var days = parseInt(trim(staleInput.value), 10);
      ev.preventDefault();
      if (isNaN(days) || days < 1 || days > 3650 || String(days) !== trim(staleInput.value)) {
        setText(staleNote, ww.t('bundles.badDays'));
        return;
      }
      staleButton.disabled = true;
      api('PUT', '/api/bundles/settings', { stale_after_days: days }, function (err) {
        if (!view.alive()) {
          return;
        }
        staleButton.disabled = false;
        if (err) {
          setText(staleNote, ww.t('bundles.notSaved', { error: err.message }));
          return;
        }
        staleInput.removeAttribute('data-edited');
        setText(staleNote, ww.t('bundles.saved'));
        load();
      });
    }, false);

    ww.listInput(view, filter, list, 'q', function () { rememberAndReload(); });
    ww.listInput(view, departmentInput, list, 'department', function () { rememberAndReload(); });
    behindBox.addEventListener('change', function () {
      list.behind = behindBox.checked ? 'true' : '';
      list.page = 1;
      rememberAndReload();
    }, false);
    ww.pageButtons(list, prev, next, function () { rememberAndReload(); });

    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.bundles = showBundles;
}(wardwatch));
