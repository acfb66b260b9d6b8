/*
 * wardwatch console, bundles.js: the signed offline bundles (#/bundles): what is
 * installed of each kind, the upload form, the stale-data setting, the version each
 * host runs and the recent imports. Kind names come from a fixed list; everything else
 * is text.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, clear = ww.clear, setText = ww.setText;
  var showMessage = ww.showMessage, isArray = ww.isArray, orDash = ww.orDash, str = ww.str;
  var trim = ww.trim, plural = ww.plural, formatBytes = ww.formatBytes, sentence = ww.sentence;
  var now = ww.now, shortDate = ww.shortDate, fullDate = ww.fullDate, dateCell = ww.dateCell;
  var api = ww.api, errorMessage = ww.errorMessage, noteServerClock = ww.noteServerClock;
  var sessionEnded = ww.sessionEnded, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, hostHash = ww.hostHash;
  var dataTable = ww.dataTable, loadingRow = ww.loadingRow, fillTable = ww.fillTable;
  var ELLIPSIS = ww.ELLIPSIS, DASH = ww.DASH, REFRESH_MS = ww.REFRESH_MS;

  var BUNDLE_KINDS = ['vuln-feed', 'signatures', 'policies', 'patches'];
  var BUNDLE_KIND_TITLES = {
    'vuln-feed': 'Vulnerability data',
    signatures: 'Malware signatures',
    policies: 'Policies',
    patches: 'Patches'
  };
  var BUNDLE_HISTORY_ROWS = 20;

  function kindTitle(kind) {
    return Object.prototype.hasOwnProperty.call(BUNDLE_KIND_TITLES, kind) ? BUNDLE_KIND_TITLES[kind] : String(kind);
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
        finish({ status: 0, message: 'The upload did not reach the wardwatch server. Check the network connection and try again.' });
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
      finish({ status: 0, message: 'The upload could not be sent: ' + e.message });
    }
  }

  function showBundles() {
    var view = beginView('bundles');
    var data = null;
    var loading = false;
    var uploading = false;
    setTitle('Bundles');

    var warnings = el('div', { id: 'bundles-warnings' });
    var installed = dataTable('bundles-installed', [
      { label: 'Kind' },
      { label: 'Version', className: 'num shrink' },
      { label: 'Created', className: 'shrink', title: 'When the publisher built the bundle' },
      { label: 'Expires', className: 'shrink' },
      { label: 'Imported', className: 'shrink' },
      { label: 'By', className: 'shrink' },
      { label: 'Content' },
      { label: 'Hosts', title: 'Hosts running this version / behind / not reported' }
    ]);
    loadingRow(installed, 'Loading bundles');

    var fileInput = el('input', { id: 'bundle-file', type: 'file', name: 'bundle', accept: '.wwb,.bundle,application/octet-stream' });
    var uploadButton = el('button', { id: 'bundle-upload-submit', type: 'submit', className: 'btn btn-primary' }, 'Import bundle');
    var uploadNote = el('div', { id: 'bundle-upload-status', className: 'form-note', role: 'status', hidden: true });
    var uploadError = el('div', { id: 'bundle-upload-error', className: 'form-error', role: 'alert', hidden: true });
    var keysNote = el('p', { id: 'bundle-keys', className: 'muted small' });
    var uploadForm = el('form', { id: 'bundle-upload-form', className: 'bundle-form', method: 'post', action: '#/bundles', novalidate: true }, [
      uploadNote,
      uploadError,
      el('div', { className: 'field' }, [el('label', { 'for': 'bundle-file' }, 'Bundle file'), fileInput]),
      uploadButton,
      keysNote
    ]);

    var staleInput = el('input', { id: 'bundle-stale-days', type: 'text', inputmode: 'numeric', maxlength: 4, className: 'short-input', 'aria-label': 'Days' });
    var staleButton = el('button', { id: 'bundle-stale-save', type: 'submit', className: 'btn btn-small' }, 'Save');
    var staleNote = el('span', { id: 'bundle-stale-status', className: 'muted small' });
    var staleForm = el('form', { id: 'bundle-stale-form', className: 'inline-form', method: 'post', action: '#/bundles', novalidate: true }, [
      el('label', { 'for': 'bundle-stale-days' }, 'Warn when the newest installed data of a kind is older than '),
      staleInput, ' days ', staleButton, ' ', staleNote
    ]);

    var hostColumns = [{ label: 'Host' }, { label: 'Department' }];
    var i;
    for (i = 0; i < BUNDLE_KINDS.length; i++) {
      hostColumns.push({ label: kindTitle(BUNDLE_KINDS[i]), className: 'shrink' });
    }
    var hostsTable = dataTable('bundles-hosts', hostColumns);
    loadingRow(hostsTable, 'Loading hosts');
    var history = dataTable('bundles-history', [
      { label: 'Imported', className: 'shrink' },
      { label: 'Kind' },
      { label: 'Version', className: 'num shrink' },
      { label: 'By', className: 'shrink' },
      { label: 'Signed by key', className: 'shrink' },
      { label: 'Content' }
    ]);

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, 'Bundles')]),
      el('p', { className: 'muted' }, 'Signed offline bundles carry vulnerability data, malware signatures, policies and patches into the hospital network. ' +
        'Each is checked completely (trusted signature, newer than what is installed, not expired, every file) before it is installed; agents fetch it from this server.'),
      warnings,
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Installed'), el('div', { className: 'table-wrap' }, installed.table)]),
      el('div', { className: 'bundle-columns' }, [
        el('div', { className: 'bundle-section' }, [el('h2', null, 'Import a bundle'), uploadForm]),
        el('div', { className: 'bundle-section' }, [el('h2', null, 'Stale data warning'), staleForm])
      ]),
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Versions on the hosts'), el('div', { className: 'table-wrap' }, hostsTable.table),
        el('p', { className: 'legend' }, 'Highlighted: hosts that run an older version than the server has installed. A dash: the host has not reported that kind.')]),
      el('div', { className: 'bundle-section' }, [el('h2', null, 'Recent imports'), el('div', { className: 'table-wrap' }, history.table)])
    ]);

    function recorded(ms) {
      return dateCell(ms, 'not recorded');
    }

    function renderWarnings() {
      var k, kv, age;
      clear(warnings);
      if (data.trusted_keys_error) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          'The trusted publisher keys cannot be read, so no bundle can be imported: ' + String(data.trusted_keys_error)));
      } else if (!isArray(data.trusted_keys) || data.trusted_keys.length === 0) {
        warnings.appendChild(el('div', { className: 'notice notice-warn', id: 'bundles-keys-warning' },
          'No publisher key is trusted yet, so every bundle is refused. On the server, run: wardwatch bundle trust add PUBLISHER.pub'));
      }
      for (k = 0; k < data.kinds.length; k++) {
        kv = data.kinds[k] || {};
        if (!kv.installed) {
          continue;
        }
        if (kv.expired) {
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            kindTitle(kv.kind) + ': the installed bundle (version ' + kv.installed.version + ') expired on ' +
            shortDate(kv.installed.expires) + '. Import a newer bundle.'));
        } else if (kv.stale) {
          age = Math.floor((now() - kv.installed.created) / 86400000);
          warnings.appendChild(el('div', { className: 'notice notice-warn bundle-stale', 'data-kind': str(kv.kind) },
            kindTitle(kv.kind) + ': the newest installed data (version ' + kv.installed.version + ') was created ' +
            plural(age, 'day', 'days') + ' ago, more than the ' + plural(data.stale_after_days, 'day', 'days') +
            ' set below. Import a newer bundle.'));
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
            el('td', { colspan: installed.columns - 1, className: 'muted' }, 'Not installed')
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
          el('td', { className: 'nowrap' }, [recorded(b.expires), kv.expired ? el('span', { className: 'flag' }, 'expired') : null]),
          el('td', { className: 'nowrap' }, recorded(b.imported_at)),
          el('td', { className: 'nowrap' }, orDash(b.imported_by)),
          el('td', null, [plural(b.members, 'file', 'files') + ', ' + formatBytes(b.total_size),
            b.key_id ? el('div', { className: 'muted small mono' }, 'key ' + String(b.key_id)) : null]),
          el('td', { className: 'nowrap' }, [
            el('span', { title: 'running this version' }, String(kv.hosts_current)), ' / ',
            el('span', { className: kv.hosts_behind ? 'version-behind' : null, title: 'behind' }, String(kv.hosts_behind)), ' / ',
            el('span', { className: 'muted', title: 'not reported' }, String(kv.hosts_not_reported))
          ])
        ]));
      }
      clear(installed.tbody);
      installed.tbody.appendChild(rows);
    }

    function renderHosts() {
      var rows = document.createDocumentFragment();
      var h, host, k, kind, v, cells, behind;
      var list = isArray(data.hosts) ? data.hosts : [];
      for (h = 0; h < list.length; h++) {
        host = list[h] || {};
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
              title: 'reported ' + fullDate(v.reported_at) + (v.behind ? '; older than the installed version' : '')
            }, String(v.version)) : el('span', { className: 'empty', title: 'not reported' }, DASH)));
        }
        rows.appendChild(el('tr', {
          className: 'bundle-host-row' + (behind ? ' host-behind' : ''),
          'data-host-id': str(host.id), 'data-behind': behind ? 'true' : 'false'
        }, cells));
      }
      fillTable(hostsTable, rows, list.length, 'No hosts have enrolled yet.');
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
          el('td', null, plural(b.member_count, 'file', 'files') + ', ' + formatBytes(b.total_size))
        ]));
      }
      fillTable(history, rows, list.length, 'No bundle has been imported yet.');
    }

    function render() {
      var keys = isArray(data.trusted_keys) ? data.trusted_keys : [];
      renderWarnings();
      renderInstalled();
      renderHosts();
      renderHistory();
      setText(keysNote, (keys.length ? 'Trusted publisher keys: ' + keys.join(', ') + '. ' : '') +
        'Bundles larger than ' + formatBytes(data.max_upload_bytes) + ' are imported on the server with: wardwatch bundle import FILE');
      if (document.activeElement !== staleInput && !staleInput.getAttribute('data-edited')) {
        staleInput.value = String(data.stale_after_days);
      }
    }

    function load() {
      if (loading) {
        return;
      }
      loading = true;
      api('GET', '/api/bundles', null, function (err, result) {
        loading = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError('Could not load the bundles: ' + err.message);
          return;
        }
        data = result;
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
        showMessage(uploadError, 'Choose a bundle file first.');
        return;
      }
      if (data && typeof data.max_upload_bytes === 'number' && file.size > data.max_upload_bytes) {
        showMessage(uploadError, 'This file is larger than the upload limit of ' + formatBytes(data.max_upload_bytes) +
          '. Import it on the server with: wardwatch bundle import FILE');
        return;
      }
      uploading = true;
      uploadButton.disabled = true;
      setText(uploadButton, 'Checking' + ELLIPSIS);
      showMessage(uploadNote, 'Uploading ' + file.name + ELLIPSIS);
      uploadBundle(file, function (loaded, total) {
        if (view.alive() && loaded < total) {
          showMessage(uploadNote, 'Uploading ' + file.name + ': ' + Math.floor(loaded * 100 / total) + ' %');
        } else if (view.alive()) {
          showMessage(uploadNote, 'Checking ' + file.name + ELLIPSIS);
        }
      }, function (err, result) {
        var b;
        uploading = false;
        if (!view.alive()) {
          return;
        }
        uploadButton.disabled = false;
        setText(uploadButton, 'Import bundle');
        if (err) {
          showMessage(uploadNote, '');
          showMessage(uploadError, 'Refused: ' + sentence(err.message) + ' Nothing was installed.');
          return;
        }
        b = result && result.bundle ? result.bundle : {};
        showMessage(uploadNote, 'Imported ' + kindTitle(b.kind) + ' version ' + str(b.version) +
          (typeof result.replaced_version === 'number' ? ' (replacing version ' + result.replaced_version + ')' : '') +
          '. Agents fetch it from now on.');
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
        setText(staleNote, 'Enter a whole number of days from 1 to 3650.');
        return;
      }
      staleButton.disabled = true;
      api('PUT', '/api/bundles/settings', { stale_after_days: days }, function (err) {
        if (!view.alive()) {
          return;
        }
        staleButton.disabled = false;
        if (err) {
          setText(staleNote, 'Not saved: ' + err.message);
          return;
        }
        staleInput.removeAttribute('data-edited');
        setText(staleNote, 'Saved.');
        load();
      });
    }, false);

    load();
    view.every(REFRESH_MS, load);
  }

  ww.views.bundles = showBundles;
}(wardwatch));
