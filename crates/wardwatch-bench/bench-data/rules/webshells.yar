/*
 * wardwatch bench rules: PHP and JSP web shells of the kinds dropped on hospital
 * intranet servers (patient portals, PACS web viewers). Written for the wardwatch
 * scan benchmark; they are meant to be realistic in shape and cost, not a product
 * rule set.
 */

rule PhpEvalEncodedPayload
{
    meta:
        description = "PHP that evaluates a decoded or inflated payload"
        severity = "high"
    strings:
        $php = "<?php" nocase
        $eval = /eval\s*\(\s*(base64_decode|gzinflate|gzuncompress|str_rot13)\s*\(/ nocase
        $assert = /assert\s*\(\s*\$_(POST|GET|REQUEST|COOKIE)\[/ nocase
    condition:
        $php and ($eval or $assert) and filesize < 1MB
}

rule PhpRequestToShell
{
    meta:
        description = "PHP passing request parameters to a shell"
        severity = "high"
    strings:
        $php = "<?php" nocase
        $sys1 = "system($_" nocase
        $sys2 = "passthru($_" nocase
        $sys3 = "shell_exec($_" nocase
        $sys4 = "proc_open($_" nocase
        $bt = /`\s*\$_(GET|POST|REQUEST)\[/
    condition:
        $php and any of ($sys*, $bt) and filesize < 512KB
}

rule JspCmdShell
{
    meta:
        description = "JSP page running request parameters as commands"
        severity = "high"
    strings:
        $exec = "Runtime.getRuntime().exec(request.getParameter(" ascii
        $pb = "new ProcessBuilder(request.getParameter(" ascii
        $page = "<%@ page" ascii
    condition:
        $page and ($exec or $pb)
}
