/*
 * wardwatch console, i18n.js: the console's words in English and Simplified Chinese.
 * The language is the one chosen on this browser for the signed-in user (My account),
 * else the browser's own (Chinese when it prefers zh), else English. Numbers are grouped
 * and dates written as the language does, in the browser's time zone.
 *
 * Views ask for words with ww.t('key', { name: value }); a key missing in Chinese falls
 * back to English, and a key missing in both shows itself (a visible bug, never blank).
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
      'account.language': 'Language', 'account.languageNote': 'The console\u2019s language on this browser.',
      'lang.auto': 'As the browser', 'lang.en': 'English', 'lang.zh': '\u7b80\u4f53\u4e2d\u6587'
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
      'account.language': '\u8bed\u8a00', 'account.languageNote': '\u6b64\u6d4f\u89c8\u5668\u4e0a\u63a7\u5236\u53f0\u7684\u8bed\u8a00\u3002',
      'lang.auto': '\u8ddf\u968f\u6d4f\u89c8\u5668', 'lang.en': 'English', 'lang.zh': '\u7b80\u4f53\u4e2d\u6587'
    }
  };

  function storageKey() {
    return 'wardwatch.lang.' + (ww.state.user || '');
  }

  /* 'en', 'zh' or '' (as the browser) chosen on this browser for the signed-in user. */
  function chosen() {
    try {
      var v = window.localStorage.getItem(storageKey());
      return v === 'en' || v === 'zh' ? v : '';
    } catch (e) {
      return '';
    }
  }

  function browserLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
    return String(langs[0] || 'en').toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en';
  }

  function lang() {
    return chosen() || browserLang();
  }

  function choose(value) {
    try {
      if (value === 'en' || value === 'zh') {
        window.localStorage.setItem(storageKey(), value);
      } else {
        window.localStorage.removeItem(storageKey());
      }
    } catch (e) { /* private mode: the choice lasts for this page only */ }
    document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
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

  ww.i18n = { words: WORDS, lang: lang, chosen: chosen, choose: choose, number: number, dateTime: dateTime };
  ww.t = t;
}(wardwatch));
