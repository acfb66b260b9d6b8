/*
 * wardwatch console, users.js: console accounts (#/users, admins) — every account with
 * its role, departments and state; a new account (its password shown once); a role
 * change, disable or enable, a new password — and the signed-in user's own account
 * (#/account): a password change with the current one. The server checks every change
 * again and records it in the audit record.
 */
(function (ww) {
  'use strict';

  var el = ww.el, append = ww.append, byId = ww.byId, api = ww.api, str = ww.str;
  var showMessage = ww.showMessage, showError = ww.showError, clearError = ww.clearError;
  var beginView = ww.beginView, setTitle = ww.setTitle, dataTable = ww.dataTable;
  var loadingRow = ww.loadingRow, fillTable = ww.fillTable, messageRow = ww.messageRow;
  var dateCell = ww.dateCell, state = ww.state, isArray = ww.isArray;

  ww.i18n.add({
    en: {
      'users.title': 'Accounts',
      'users.role.admin': 'admin', 'users.role.analyst': 'analyst', 'users.role.auditor': 'auditor', 'users.role.operator': 'operator',
      'users.roleLong.admin': 'Admin: everything, settings and accounts included',
      'users.roleLong.analyst': 'Analyst: acts on alerts, incidents and scans',
      'users.roleLong.auditor': 'Auditor: reads everything, changes nothing',
      'users.roleLong.operator': 'Department operator: its departments\u2019 terminals only',
      'users.col.user': 'User', 'users.col.role': 'Role', 'users.col.departments': 'Departments', 'users.col.created': 'Created',
      'users.col.state': 'State', 'users.col.code': 'Code', 'users.col.codeTitle': 'Logs in with a code of an authenticator app as well',
      'users.col.change': 'Change',
      'users.loading': 'Loading the accounts', 'users.loadFailed': 'Could not load the accounts: {error}',
      'users.notLoaded': 'The accounts could not be loaded.', 'users.none': 'No accounts.',
      'users.name': 'User name', 'users.departmentsLabel': 'Departments (operators; comma between)',
      'users.departmentsExample': 'Ward 3, Laboratory', 'users.create': 'Create account',
      'users.new': 'New account', 'users.newNote': 'The account gets a random password, shown here once: hand it over in person.',
      'users.created': 'Created {user}. Its password (shown once): {password}',
      'users.deps': 'departments', 'users.depsTitle': 'Departments of an operator, comma between',
      'users.changeRole': 'Change role', 'users.roleChanged': '{user} is now an {role}; its sessions ended.',
      'users.enable': 'Enable', 'users.disable': 'Disable',
      'users.enabled': '{user} can log in again.', 'users.disabledNote': '{user} is disabled; its sessions ended.',
      'users.newPassword': 'New password', 'users.passwordFor': 'New password for {user} (shown once): {password}',
      'users.removeCode': 'Remove code',
      'users.removeCodeTitle': 'A lost phone: the account logs in with its password alone until it sets up a new code',
      'users.codeRemoved': '{user} logs in with its password alone until it sets up a new code.',
      'users.state.active': 'active', 'users.state.disabled': 'disabled', 'users.yes': 'yes', 'users.no': 'no',
      'users.fail.role': 'The role change failed: {error}', 'users.fail.enable': 'Enabling failed: {error}',
      'users.fail.disable': 'Disabling failed: {error}', 'users.fail.password': 'The new password failed: {error}',
      'users.fail.removeCode': 'Removing the code failed: {error}', 'users.fail.create': 'Creating the account failed: {error}',
      'account.title': 'My account',
      'account.role': '{user} \u2014 {role}', 'account.roleOf': '{user} \u2014 {role} of {departments}',
      'account.password': 'Password', 'account.current': 'Current password',
      'account.new': 'New password (12 characters or more)', 'account.again': 'New password again',
      'account.change': 'Change password', 'account.differ': 'The two new passwords differ.',
      'account.notChanged': 'The password was not changed: {error}',
      'account.changed': 'Password changed. Your other sessions have ended.',
      'account.code': 'Sign-in code (second factor)',
      'account.codeOn': 'On: you sign in with your password and a code of your authenticator app.',
      'account.codeOff': 'Off: you sign in with your password alone.',
      'account.setUpNew': 'Set up a new code', 'account.setUp': 'Set up a code',
      'account.startFailed': 'Could not start: {error}',
      'account.addKey': 'Add this key to your authenticator app (time-based, 6 digits, 30 seconds), then enter the code it shows:',
      'account.orAddress': 'Or the address: ', 'account.codeNow': 'Code the app shows now', 'account.turnOn': 'Turn on',
      'account.isOn': 'The sign-in code is on.'
    },
    zh: {
      'users.title': '账号',
      'users.role.admin': '管理员', 'users.role.analyst': '分析员', 'users.role.auditor': '审计员', 'users.role.operator': '科室操作员',
      'users.roleLong.admin': '管理员：全部权限，包括设置和账号',
      'users.roleLong.analyst': '分析员：处理告警、事件和扫描',
      'users.roleLong.auditor': '审计员：可查看全部内容，不能做任何修改',
      'users.roleLong.operator': '科室操作员：仅限所属科室的终端',
      'users.col.user': '用户', 'users.col.role': '角色', 'users.col.departments': '科室', 'users.col.created': '创建时间',
      'users.col.state': '状态', 'users.col.code': '验证码', 'users.col.codeTitle': '登录时还需输入身份验证器应用中的验证码',
      'users.col.change': '操作',
      'users.loading': '正在加载账号', 'users.loadFailed': '无法加载账号：{error}',
      'users.notLoaded': '账号加载失败。', 'users.none': '没有账号。',
      'users.name': '用户名', 'users.departmentsLabel': '科室（科室操作员适用，用英文逗号分隔）',
      'users.departmentsExample': '三病区, 检验科', 'users.create': '创建账号',
      'users.new': '新建账号', 'users.newNote': '新账号会获得一个随机密码，只在此处显示一次：请当面交给本人。',
      'users.created': '已创建 {user}。其密码（只显示一次）：{password}',
      'users.deps': '科室', 'users.depsTitle': '科室操作员负责的科室，用英文逗号分隔',
      'users.changeRole': '更改角色', 'users.roleChanged': '{user} 的角色已改为{role}，其会话已结束。',
      'users.enable': '启用', 'users.disable': '停用',
      'users.enabled': '{user} 可以重新登录了。', 'users.disabledNote': '{user} 已停用，其会话已结束。',
      'users.newPassword': '重置密码', 'users.passwordFor': '{user} 的新密码（只显示一次）：{password}',
      'users.removeCode': '移除验证码',
      'users.removeCodeTitle': '手机丢失时使用：在设置新验证码之前，该账号只凭密码登录',
      'users.codeRemoved': '在设置新验证码之前，{user} 只凭密码登录。',
      'users.state.active': '正常', 'users.state.disabled': '已停用', 'users.yes': '是', 'users.no': '否',
      'users.fail.role': '更改角色失败：{error}', 'users.fail.enable': '启用失败：{error}',
      'users.fail.disable': '停用失败：{error}', 'users.fail.password': '重置密码失败：{error}',
      'users.fail.removeCode': '移除验证码失败：{error}', 'users.fail.create': '创建账号失败：{error}',
      'account.title': '我的账号',
      'account.role': '{user} — {role}', 'account.roleOf': '{user} — {role}（{departments}）',
      'account.password': '密码', 'account.current': '当前密码',
      'account.new': '新密码（至少 12 个字符）', 'account.again': '再次输入新密码',
      'account.change': '修改密码', 'account.differ': '两次输入的新密码不一致。',
      'account.notChanged': '密码未修改：{error}',
      'account.changed': '密码已修改。您的其他会话已结束。',
      'account.code': '登录验证码（双重验证）',
      'account.codeOn': '已开启：登录时需要输入密码和身份验证器应用中的验证码。',
      'account.codeOff': '未开启：登录时只需输入密码。',
      'account.setUpNew': '设置新的验证码', 'account.setUp': '设置验证码',
      'account.startFailed': '无法开始设置：{error}',
      'account.addKey': '请将此密钥添加到身份验证器应用（基于时间，6 位数字，30 秒），然后输入应用显示的验证码：',
      'account.orAddress': '或使用此地址：', 'account.codeNow': '应用当前显示的验证码', 'account.turnOn': '开启',
      'account.isOn': '登录验证码已开启。'
    }
  });

  var ROLES = ['admin', 'analyst', 'auditor', 'operator']; // users.roleLong.ID says what each may do

  /* A role's name for display: its word, or the code itself when it has none. */
  function roleName(role) {
    var key = 'users.role.' + role;
    return Object.prototype.hasOwnProperty.call(ww.i18n.words.en, key) ? ww.t(key) : str(role);
  }

  /* "Ward 3, Laboratory" as the list the API takes. */
  function departmentList(text) {
    return String(text || '').split(',').map(function (d) { return d.trim(); })
      .filter(function (d) { return d !== ''; });
  }

  /* The role chooser: with what each role may do (`long`), or its name only. */
  function roleSelect(id, selected, long) {
    var select = el('select', { id: id, title: ww.t('users.col.role') });
    ROLES.forEach(function (r) {
      var option = el('option', { value: r }, long ? ww.t('users.roleLong.' + r) : roleName(r));
      if (r === selected) {
        option.selected = true;
      }
      select.appendChild(option);
    });
    return select;
  }

  function showUsers() {
    var view = beginView('users');
    setTitle(ww.t('users.title'));
    var note = el('div', { id: 'users-status', className: 'form-note', role: 'status', hidden: true });
    var t = dataTable('users-table', [
      { label: ww.t('users.col.user'), className: 'shrink' },
      { label: ww.t('users.col.role'), className: 'shrink' },
      { label: ww.t('users.col.departments') },
      { label: ww.t('users.col.created'), className: 'shrink' },
      { label: ww.t('users.col.state'), className: 'shrink' },
      { label: ww.t('users.col.code'), className: 'shrink', title: ww.t('users.col.codeTitle') },
      { label: ww.t('users.col.change') }
    ]);
    loadingRow(t, ww.t('users.loading'));

    var name = el('input', { type: 'text', id: 'new-user-name', maxLength: 64, autocomplete: 'off' });
    var role = roleSelect('new-user-role', 'analyst', true);
    var departments = el('input', { type: 'text', id: 'new-user-departments', placeholder: ww.t('users.departmentsExample') });
    var create = el('button', { type: 'submit', className: 'btn btn-primary', id: 'new-user-create' }, ww.t('users.create'));
    var form = el('form', { id: 'new-user-form', className: 'form-grid' }, [
      el('label', { htmlFor: 'new-user-name' }, ww.t('users.name')), name,
      el('label', { htmlFor: 'new-user-role' }, ww.t('users.col.role')), role,
      el('label', { htmlFor: 'new-user-departments' }, ww.t('users.departmentsLabel')), departments,
      el('span'), create
    ]);

    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('users.title'))]),
      note,
      t.table,
      el('section', { id: 'new-user' }, [el('h2', { className: 'panel-heading' }, ww.t('users.new')),
        el('p', { className: 'muted' }, ww.t('users.newNote')),
        form])
    ]);

    /* `failed`: the key of the note shown when err is set. */
    function answer(err, failed) {
      if (err) {
        showMessage(note, ww.t(failed, { error: err.message }));
        return false;
      }
      return true;
    }

    function actions(u) {
      var cell = el('td', { className: 'actions' });
      var disabled = typeof u.disabled_at === 'number';
      var changeRole = roleSelect('role-' + u.username, u.role, false);
      var deps = el('input', { type: 'text', className: 'small', value: (u.departments || []).join(', '), placeholder: ww.t('users.deps'),
        title: ww.t('users.depsTitle') });
      var save = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'role' }, ww.t('users.changeRole'));
      save.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/role',
          { role: changeRole.value, departments: changeRole.value === 'operator' ? departmentList(deps.value) : [] },
          function (err) {
            if (view.alive() && answer(err, 'users.fail.role')) {
              showMessage(note, ww.t('users.roleChanged', { user: u.username, role: roleName(changeRole.value) }));
              load();
            }
          });
      });
      var toggle = el('button', { type: 'button', className: 'btn btn-small', 'data-action': disabled ? 'enable' : 'disable' },
        ww.t(disabled ? 'users.enable' : 'users.disable'));
      toggle.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/disabled', { disabled: !disabled }, function (err) {
          if (view.alive() && answer(err, disabled ? 'users.fail.enable' : 'users.fail.disable')) {
            showMessage(note, ww.t(disabled ? 'users.enabled' : 'users.disabledNote', { user: u.username }));
            load();
          }
        });
      });
      var reset = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'password' }, ww.t('users.newPassword'));
      reset.addEventListener('click', function () {
        api('POST', '/api/users/' + encodeURIComponent(u.username) + '/password', {}, function (err, data) {
          if (view.alive() && answer(err, 'users.fail.password')) {
            showMessage(note, ww.t('users.passwordFor', { user: u.username, password: str(data.password) }));
          }
        });
      });
      var removeCode = null;
      if (u.second_factor) {
        removeCode = el('button', { type: 'button', className: 'btn btn-small', 'data-action': 'remove-code',
          title: ww.t('users.removeCodeTitle') }, ww.t('users.removeCode'));
        removeCode.addEventListener('click', function () {
          api('DELETE', '/api/users/' + encodeURIComponent(u.username) + '/second-factor', {}, function (err) {
            if (view.alive() && answer(err, 'users.fail.removeCode')) {
              showMessage(note, ww.t('users.codeRemoved', { user: u.username }));
              load();
            }
          });
        });
      }
      append(cell, [changeRole, deps, save, toggle, reset, removeCode]);
      return cell;
    }

    function row(u) {
      var disabled = typeof u.disabled_at === 'number';
      return el('tr', { className: 'user-row', 'data-user': str(u.username) }, [
        el('td', { className: 'shrink' }, str(u.username)),
        el('td', { className: 'shrink user-role' }, roleName(u.role)),
        el('td', { className: 'user-departments' }, (u.departments || []).join(', ') || '\u2014'),
        dateCell(u.created_at),
        el('td', { className: 'shrink user-state' }, ww.t(disabled ? 'users.state.disabled' : 'users.state.active')),
        el('td', { className: 'shrink user-code' }, ww.t(u.second_factor ? 'users.yes' : 'users.no')),
        actions(u)
      ]);
    }

    function load() {
      api('GET', '/api/users', null, function (err, data) {
        if (!view.alive()) {
          return;
        }
        if (err) {
          showError(ww.t('users.loadFailed', { error: err.message }));
          messageRow(t.tbody, t.columns, ww.t('users.notLoaded'), 'placeholder-row');
          return;
        }
        clearError();
        var list = isArray(data.users) ? data.users : [];
        var frag = document.createDocumentFragment();
        list.forEach(function (u) { frag.appendChild(row(u || {})); });
        fillTable(t, frag, list.length, ww.t('users.none'));
      });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      create.disabled = true;
      var body = { username: name.value.trim(), role: role.value,
        departments: role.value === 'operator' ? departmentList(departments.value) : [] };
      api('POST', '/api/users', body, function (err, data) {
        create.disabled = false;
        if (!view.alive() || !answer(err, 'users.fail.create')) {
          return;
        }
        showMessage(note, ww.t('users.created', { user: str(data.username), password: str(data.password) }));
        name.value = '';
        departments.value = '';
        load();
      });
    }, false);

    load();
  }

  /* The console's language for this user on this browser; the page follows at once. */
  function languageSelect() {
    var select = el('select', { id: 'language-choice' });
    [['', 'lang.auto'], ['en', 'lang.en'], ['zh', 'lang.zh']].forEach(function (o) {
      var option = el('option', { value: o[0] }, ww.t(o[1]));
      if (ww.i18n.chosen() === o[0]) {
        option.selected = true;
      }
      select.appendChild(option);
    });
    select.addEventListener('change', function () {
      select.disabled = true;
      ww.i18n.choose(select.value, function (err) {
        if (err) {
          select.disabled = false;
          ww.showError(err.message);
          return;
        }
        ww.updateHeader();
        showAccount();
      });
    }, false);
    return select;
  }

  function showAccount() {
    var view = beginView('account');
    setTitle(ww.t('account.title'));
    var note = el('div', { id: 'account-status', className: 'form-note', role: 'status', hidden: true });
    var current = el('input', { type: 'password', id: 'current-password', autocomplete: 'current-password' });
    var next = el('input', { type: 'password', id: 'new-password', autocomplete: 'new-password', minLength: 12 });
    var again = el('input', { type: 'password', id: 'new-password-again', autocomplete: 'new-password' });
    var save = el('button', { type: 'submit', className: 'btn btn-primary', id: 'change-password' }, ww.t('account.change'));
    var form = el('form', { id: 'password-form', className: 'form-grid' }, [
      el('label', { htmlFor: 'current-password' }, ww.t('account.current')), current,
      el('label', { htmlFor: 'new-password' }, ww.t('account.new')), next,
      el('label', { htmlFor: 'new-password-again' }, ww.t('account.again')), again,
      el('span'), save
    ]);
    var factorNote = el('div', { id: 'second-factor-status', className: 'form-note', role: 'status', hidden: true });
    var factorState = el('p', { id: 'second-factor-state' }, ww.t(state.secondFactor ? 'account.codeOn' : 'account.codeOff'));
    var setUp = el('button', { type: 'button', className: 'btn', id: 'second-factor-start' },
      ww.t(state.secondFactor ? 'account.setUpNew' : 'account.setUp'));
    var secretBox = el('div', { id: 'second-factor-setup', hidden: true });
    append(byId('app'), [
      el('div', { className: 'page-head' }, [el('h1', null, ww.t('account.title'))]),
      el('p', { id: 'account-role' }, ww.t(state.departments.length ? 'account.roleOf' : 'account.role',
        { user: str(state.user), role: roleName(state.role), departments: state.departments.join(', ') })),
      note,
      el('h2', { className: 'panel-heading' }, ww.t('account.password')),
      form,
      el('h2', { className: 'panel-heading' }, ww.t('account.code')),
      factorState, factorNote, setUp, secretBox,
      el('h2', { className: 'panel-heading' }, ww.t('account.language')),
      el('p', { className: 'muted' }, ww.t('account.languageNote')),
      languageSelect()
    ]);

    setUp.addEventListener('click', function () {
      setUp.disabled = true;
      api('POST', '/api/me/second-factor', {}, function (err, data) {
        setUp.disabled = false;
        if (!view.alive()) {
          return;
        }
        if (err) {
          showMessage(factorNote, ww.t('account.startFailed', { error: err.message }));
          return;
        }
        var code = el('input', { type: 'text', id: 'second-factor-code', inputMode: 'numeric', maxLength: 6,
          autocomplete: 'one-time-code' });
        var confirm = el('button', { type: 'submit', className: 'btn btn-primary', id: 'second-factor-confirm' }, ww.t('account.turnOn'));
        var confirmForm = el('form', { className: 'form-grid', id: 'second-factor-form' }, [
          el('label', { htmlFor: 'second-factor-code' }, ww.t('account.codeNow')), code, el('span'), confirm]);
        ww.clear(secretBox);
        append(secretBox, [
          el('p', null, ww.t('account.addKey')),
          el('p', null, el('code', { id: 'second-factor-secret' }, str(data.secret).replace(/(.{4})/g, '$1 ').trim())),
          el('p', { className: 'small muted' }, [ww.t('account.orAddress'), el('code', { id: 'second-factor-url' }, str(data.url))]),
          confirmForm
        ]);
        ww.show(secretBox, true);
        confirmForm.addEventListener('submit', function (e) {
          e.preventDefault();
          confirm.disabled = true;
          api('POST', '/api/me/second-factor/confirm', { code: code.value.trim() }, function (cErr) {
            confirm.disabled = false;
            if (!view.alive()) {
              return;
            }
            if (cErr) {
              showMessage(factorNote, cErr.message);
              return;
            }
            state.secondFactor = true;
            ww.show(secretBox, false);
            ww.setText(factorState, ww.t('account.codeOn'));
            showMessage(factorNote, ww.t('account.isOn'));
          });
        }, false);
      });
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (next.value !== again.value) {
        showMessage(note, ww.t('account.differ'));
        return;
      }
      save.disabled = true;
      api('POST', '/api/me/password', { current: current.value, new: next.value }, function (err) {
        save.disabled = false;
        if (!view.alive()) {
          return;
        }
        current.value = '';
        if (err) {
          showMessage(note, ww.t('account.notChanged', { error: err.message }));
          return;
        }
        next.value = '';
        again.value = '';
        showMessage(note, ww.t('account.changed'));
      });
    }, false);
  }

  ww.views.users = showUsers;
  ww.views.account = showAccount;
}(wardwatch));
