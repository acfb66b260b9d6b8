/*
 * wardwatch console, i18n.js: the console's words in English and Simplified Chinese.
 * The language is the one the signed-in account chose (My account, kept by the server),
 * else the browser's own (Chinese when it prefers zh), else English. Numbers are grouped
 * and dates written as the language does, in the browser's time zone.
 *
 * Views ask for words with ww.t('key', { name: value }); a key missing in Chinese falls
 * back to English, and a key missing in both shows itself (a visible bug, never blank).
 * Each view keeps its own words beside its code and hands them over once, when its file
 * loads, with ww.i18n.add({ en: { ... }, zh: { ... } }); the words here are the ones the
 * header, the sign-in page and the overview share, and the common words of lib.js and
 * app.js (keys common., time., error., app.; lib.js loads before this file, so they live
 * here, where any view may use them too).
 */
(function (ww) {
  'use strict';

  var WORDS = {
    en: {
      'nav.overview': 'Overview', 'nav.hosts': 'Hosts', 'nav.alerts': 'Alerts', 'nav.incidents': 'Incidents',
      'nav.vulns': 'Vulnerabilities', 'nav.patches': 'Patches', 'nav.backups': 'Backups', 'nav.bundles': 'Bundles',
      'nav.audit': 'Audit', 'nav.users': 'Accounts', 'nav.signedInAs': 'Signed in as', 'nav.logout': 'Log out',
      'overview.title': 'Overview',
      'overview.loading': 'Loading the overview',
      'overview.terminals': 'Terminals', 'overview.online': 'Online', 'overview.offline': 'Offline',
      'overview.ransomwareHosts': 'Exposed to ransomware', 'overview.eolHosts': 'End-of-life systems',
      'overview.alerts24h': 'Alerts, last 24 h', 'overview.urgent': '{n} urgent',
      'overview.incidents': 'Open incidents', 'overview.backups': 'Backups with problems',
      'overview.backupsOf': 'of {n} terminals', 'overview.unguarded': 'Without the guard',
      'overview.byDepartment': 'Terminals by department', 'overview.department': 'Department',
      'overview.guarded': 'Guarded', 'overview.noDepartment': '(none)', 'overview.noHosts': 'No terminals are enrolled yet.',
      'overview.freshness': 'Signatures and feeds', 'overview.feed': 'Vulnerability feed',
      'overview.signatures': 'Signatures', 'overview.version': 'version {v}, made {when}',
      'overview.none': 'none imported', 'overview.behind': '{n} terminals have older signatures or none',
      'overview.stale': 'older than {n} days: import a newer one',
      'overview.charts': 'Risk', 'overview.riskChart': 'Open findings over the last 30 days',
      'overview.deptChart': 'Open findings by department',
      'overview.steps': 'Getting started', 'overview.stepsNote': 'Still to do on this installation:',
      'step.import_feed': 'Import a vulnerability feed (Bundles)',
      'step.import_signatures': 'Import signatures for the malware scanner (Bundles)',
      'step.enrol_terminals': 'Enrol the first terminals (wardwatch token create, then wardwatch agent enroll)',
      'step.protect_folders': 'Choose the folders the ransomware guard protects (wardwatch agent run --guard-path)',
      'step.set_up_backups': 'Set up backups (Backups)',
      'step.done': 'done', 'step.todo': 'to do',
      'login.title': 'Sign in', 'login.submit': 'Sign in', 'login.signingIn': 'Signing in',
      'login.user': 'User name', 'login.password': 'Password', 'login.code': 'Code from your authenticator app',
      'login.missing': 'Enter your user name and password.', 'login.wrong': 'Wrong user name or password.',
      'login.console': 'wardwatch console', 'login.signedOut': 'You have signed out.',
      'login.signOutFailed': 'Could not sign out: {message}',
      'account.language': 'Language', 'account.languageNote': 'The console\u2019s language on this browser.',
      'lang.auto': 'As the browser', 'lang.en': 'English', 'lang.zh': '\u7b80\u4f53\u4e2d\u6587',
      /* Shared by lib.js, app.js and any view. */
      'common.yes': 'yes', 'common.no': 'no', 'common.notReported': 'not reported',
      'common.byte': '{n} byte', 'common.bytes': '{n} bytes', 'common.listSep': ', ',
      'common.role.admin': 'admin', 'common.role.analyst': 'analyst', 'common.role.auditor': 'auditor',
      'common.role.operator': 'operator', 'common.roleText': 'an {role}', 'common.roleText.none': 'a signed-in user',
      'common.status.online': 'online', 'common.status.offline': 'offline', 'common.status.revoked': 'revoked',
      'common.statusTitle.online': 'The agent reported in recently',
      'common.statusTitle.offline': 'The agent has not reported in recently',
      'common.statusTitle.revoked': 'This host\'s certificate was revoked; its agent can no longer report',
      'common.prev': '\u2039 Previous', 'common.next': 'Next \u203a', 'common.page': 'Page {page} of {pages}',
      'common.couldNotLoad': 'Could not load the {what}: {message}', 'common.notLoaded': 'The {what} could not be loaded.',
      'common.dismiss': 'Dismiss',
      'time.never': 'never', 'time.justNow': 'just now', 'time.ago': '{t} ago', 'time.in': 'in {t}',
      'time.s': '{n} s', 'time.min': '{n} min', 'time.h': '{n} h', 'time.d': '{n} d',
      'error.unavailable': 'The wardwatch server is not available right now (HTTP {status}). Try again in a moment.',
      'error.notFound': 'Not found (HTTP 404).', 'error.http': 'The server answered with an error (HTTP {status}).',
      'error.timeout': 'The wardwatch server did not answer in time. Check the network and try again.',
      'error.unreachable': 'Cannot reach the wardwatch server. Check the network connection and try again.',
      'error.unreadable': 'The server sent an answer the console could not read.',
      'error.sendFailed': 'The request could not be sent: {message}',
      'app.brand': 'wardwatch console', 'app.roleAccount': '{role} account', 'app.roleAccountIn': '{role} account ({departments})',
      'app.sessionEnded': 'Your session has ended. Please sign in again.',
      'app.notFound.title': 'Not found', 'app.notFound.heading': 'Page not found',
      'app.notFound.text': 'There is no such page in the console.', 'app.notFound.link': 'Go to the host list',
      'app.booting': 'Loading the wardwatch console', 'app.bootFailed': 'The console could not load: {message}',
      'app.bootFailed.heading': 'The console could not start',
      'app.bootFailed.text': 'Check that the wardwatch server is running and reachable from this computer, then try again.',
      'app.retry': 'Try again',
      'app.unexpected': 'The console hit an unexpected problem ({message}). Reload the page to continue.'
    },
    zh: {
      'nav.overview': '\u603b\u89c8', 'nav.hosts': '\u7ec8\u7aef', 'nav.alerts': '\u544a\u8b66', 'nav.incidents': '\u4e8b\u4ef6',
      'nav.vulns': '\u6f0f\u6d1e', 'nav.patches': '\u8865\u4e01', 'nav.backups': '\u5907\u4efd', 'nav.bundles': '\u66f4\u65b0\u5305',
      'nav.audit': '\u5ba1\u8ba1', 'nav.users': '\u8d26\u53f7', 'nav.signedInAs': '\u5f53\u524d\u7528\u6237', 'nav.logout': '\u9000\u51fa',
      'overview.title': '\u603b\u89c8',
      'overview.loading': '\u6b63\u5728\u52a0\u8f7d\u603b\u89c8',
      'overview.terminals': '\u7ec8\u7aef', 'overview.online': '\u5728\u7ebf', 'overview.offline': '\u79bb\u7ebf',
      'overview.ransomwareHosts': '\u6613\u53d7\u52d2\u7d22\u653b\u51fb', 'overview.eolHosts': '\u505c\u6b62\u652f\u6301\u7684\u7cfb\u7edf',
      'overview.alerts24h': '\u8fd1 24 \u5c0f\u65f6\u544a\u8b66', 'overview.urgent': '\u7d27\u6025 {n} \u6761',
      'overview.incidents': '\u672a\u5173\u95ed\u4e8b\u4ef6', 'overview.backups': '\u5907\u4efd\u5f02\u5e38',
      'overview.backupsOf': '\u5171 {n} \u53f0\u7ec8\u7aef', 'overview.unguarded': '\u672a\u542f\u7528\u9632\u62a4',
      'overview.byDepartment': '\u5404\u79d1\u5ba4\u7ec8\u7aef', 'overview.department': '\u79d1\u5ba4',
      'overview.guarded': '\u5df2\u9632\u62a4', 'overview.noDepartment': '\uff08\u65e0\uff09', 'overview.noHosts': '\u5c1a\u672a\u63a5\u5165\u7ec8\u7aef\u3002',
      'overview.freshness': '\u7279\u5f81\u5e93\u4e0e\u6f0f\u6d1e\u5e93', 'overview.feed': '\u6f0f\u6d1e\u5e93',
      'overview.signatures': '\u75c5\u6bd2\u7279\u5f81\u5e93', 'overview.version': '\u7248\u672c {v}\uff0c\u751f\u6210\u4e8e {when}',
      'overview.none': '\u5c1a\u672a\u5bfc\u5165', 'overview.behind': '{n} \u53f0\u7ec8\u7aef\u7684\u7279\u5f81\u5e93\u8f83\u65e7\u6216\u7f3a\u5931',
      'overview.stale': '\u5df2\u8d85\u8fc7 {n} \u5929\uff1a\u8bf7\u5bfc\u5165\u65b0\u7248\u672c',
      'overview.charts': '\u98ce\u9669', 'overview.riskChart': '\u8fd1 30 \u5929\u672a\u4fee\u590d\u7684\u6f0f\u6d1e',
      'overview.deptChart': '\u5404\u79d1\u5ba4\u672a\u4fee\u590d\u7684\u6f0f\u6d1e',
      'overview.steps': '\u5f00\u59cb\u4f7f\u7528', 'overview.stepsNote': '\u672c\u6b21\u5b89\u88c5\u5c1a\u9700\u5b8c\u6210\uff1a',
      'step.import_feed': '\u5bfc\u5165\u6f0f\u6d1e\u5e93\uff08\u66f4\u65b0\u5305\uff09',
      'step.import_signatures': '\u4e3a\u6076\u610f\u4ee3\u7801\u626b\u63cf\u5bfc\u5165\u7279\u5f81\u5e93\uff08\u66f4\u65b0\u5305\uff09',
      'step.enrol_terminals': '\u63a5\u5165\u7b2c\u4e00\u6279\u7ec8\u7aef\uff08wardwatch token create\uff0c\u7136\u540e wardwatch agent enroll\uff09',
      'step.protect_folders': '\u9009\u62e9\u52d2\u7d22\u9632\u62a4\u4fdd\u62a4\u7684\u6587\u4ef6\u5939\uff08wardwatch agent run --guard-path\uff09',
      'step.set_up_backups': '\u8bbe\u7f6e\u5907\u4efd\uff08\u5907\u4efd\uff09',
      'step.done': '\u5df2\u5b8c\u6210', 'step.todo': '\u5f85\u5b8c\u6210',
      'login.title': '\u767b\u5f55', 'login.submit': '\u767b\u5f55', 'login.signingIn': '\u6b63\u5728\u767b\u5f55',
      'login.user': '\u7528\u6237\u540d', 'login.password': '\u5bc6\u7801', 'login.code': '\u8eab\u4efd\u9a8c\u8bc1\u5668\u4e2d\u7684\u9a8c\u8bc1\u7801',
      'login.missing': '\u8bf7\u8f93\u5165\u7528\u6237\u540d\u548c\u5bc6\u7801\u3002', 'login.wrong': '\u7528\u6237\u540d\u6216\u5bc6\u7801\u9519\u8bef\u3002',
      'login.console': 'wardwatch 控制台', 'login.signedOut': '已退出登录。',
      'login.signOutFailed': '退出登录失败：{message}',
      'account.language': '\u8bed\u8a00', 'account.languageNote': '\u6b64\u6d4f\u89c8\u5668\u4e0a\u63a7\u5236\u53f0\u7684\u8bed\u8a00\u3002',
      'lang.auto': '\u8ddf\u968f\u6d4f\u89c8\u5668', 'lang.en': 'English', 'lang.zh': '\u7b80\u4f53\u4e2d\u6587',
      'common.yes': '是', 'common.no': '否', 'common.notReported': '未上报',
      'common.byte': '{n} 字节', 'common.bytes': '{n} 字节', 'common.listSep': '、',
      'common.role.admin': '管理员', 'common.role.analyst': '分析员', 'common.role.auditor': '审计员',
      'common.role.operator': '科室操作员', 'common.roleText': '{role}', 'common.roleText.none': '已登录用户',
      'common.status.online': '在线', 'common.status.offline': '离线', 'common.status.revoked': '已吊销',
      'common.statusTitle.online': '代理程序最近有上报',
      'common.statusTitle.offline': '代理程序最近没有上报',
      'common.statusTitle.revoked': '此终端的证书已吊销，其代理程序无法再上报',
      'common.prev': '‹ 上一页', 'common.next': '下一页 ›', 'common.page': '第 {page} / {pages} 页',
      'common.couldNotLoad': '无法加载{what}：{message}', 'common.notLoaded': '{what}加载失败。',
      'common.dismiss': '关闭',
      'time.never': '从未', 'time.justNow': '刚刚', 'time.ago': '{t}前', 'time.in': '{t}后',
      'time.s': '{n} 秒', 'time.min': '{n} 分钟', 'time.h': '{n} 小时', 'time.d': '{n} 天',
      'error.unavailable': 'wardwatch 服务器暂时不可用（HTTP {status}），请稍后再试。',
      'error.notFound': '未找到（HTTP 404）。', 'error.http': '服务器返回错误（HTTP {status}）。',
      'error.timeout': 'wardwatch 服务器未及时响应，请检查网络后重试。',
      'error.unreachable': '无法连接 wardwatch 服务器，请检查网络连接后重试。',
      'error.unreadable': '服务器返回的内容控制台无法识别。',
      'error.sendFailed': '请求发送失败：{message}',
      'app.brand': 'wardwatch 控制台', 'app.roleAccount': '{role}账号', 'app.roleAccountIn': '{role}账号（{departments}）',
      'app.sessionEnded': '会话已结束，请重新登录。',
      'app.notFound.title': '页面不存在', 'app.notFound.heading': '页面不存在',
      'app.notFound.text': '控制台中没有这个页面。', 'app.notFound.link': '前往终端列表',
      'app.booting': '正在加载 wardwatch 控制台', 'app.bootFailed': '控制台加载失败：{message}',
      'app.bootFailed.heading': '控制台无法启动',
      'app.bootFailed.text': '请确认 wardwatch 服务器正在运行，且这台电脑可以访问它，然后重试。',
      'app.retry': '重试',
      'app.unexpected': '控制台遇到意外问题（{message}），请刷新页面后继续。'
    }
  };

  /* Where this browser remembers the last choice, for the sign-in page. */
  var LAST_CHOICE = 'wardwatch.lang';

  function remembered() {
    try {
      var v = window.localStorage.getItem(LAST_CHOICE);
      return v === 'en' || v === 'zh' ? v : '';
    } catch (e) {
      return '';
    }
  }

  /* 'en', 'zh' or '' (as the browser): the signed-in account's choice, kept by the
     server; before signing in, the last choice made on this browser. */
  function chosen() {
    if (!ww.state.user) {
      return remembered();
    }
    var v = ww.state.language;
    return v === 'en' || v === 'zh' ? v : '';
  }

  function browserLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
    return String(langs[0] || 'en').toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en';
  }

  function lang() {
    return chosen() || browserLang();
  }

  /* Saves the account's choice on the server (every browser it signs in on follows it);
     `done(err)` is called once the server has answered. */
  function choose(value, done) {
    var language = value === 'en' || value === 'zh' ? value : '';
    ww.api('PUT', '/api/me/language', { language: language }, function (err) {
      if (!err) {
        ww.state.language = language;
        try {
          if (language) {
            window.localStorage.setItem(LAST_CHOICE, language);
          } else {
            window.localStorage.removeItem(LAST_CHOICE);
          }
        } catch (e) { /* private mode: the sign-in page follows the browser */ }
        document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
      }
      if (done) {
        done(err);
      }
    });
  }

  function t(key, params) {
    var words = WORDS[lang()] || WORDS.en;
    var text = Object.prototype.hasOwnProperty.call(words, key) ? words[key] :
      (Object.prototype.hasOwnProperty.call(WORDS.en, key) ? WORDS.en[key] : key);
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m;
      });
    }
    return text;
  }

  function locale() {
    return lang() === 'zh' ? 'zh-CN' : 'en-GB';
  }

  /* 12,345 or 12,345 as the language groups digits. */
  function number(n) {
    try {
      return new Intl.NumberFormat(locale()).format(n);
    } catch (e) {
      return String(n);
    }
  }

  /* A date and time in the browser's time zone, written as the language does. */
  function dateTime(ms) {
    try {
      return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toString();
    }
  }

  /* Takes a view's words, { en: {...}, zh: {...} }; a key given twice is a bug, shown on the console. */
  function add(more) {
    Object.keys(more).forEach(function (language) {
      var into = WORDS[language];
      if (!into) {
        return;
      }
      Object.keys(more[language]).forEach(function (key) {
        if (Object.prototype.hasOwnProperty.call(into, key) && window.console) {
          window.console.error('wardwatch: the word ' + key + ' is defined twice');
        }
        into[key] = more[language][key];
      });
    });
  }

  ww.i18n = { words: WORDS, add: add, lang: lang, chosen: chosen, choose: choose, number: number, dateTime: dateTime };
  ww.t = t;
}(wardwatch));
