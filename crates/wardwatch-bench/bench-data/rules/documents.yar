/*
 * wardwatch bench rules: malicious office documents and ransom notes arriving by
 * mail in hospital administration.
 */

rule OleDocumentAutoExecMacro
{
    meta:
        description = "OLE2 document with an auto-executing macro that starts a process"
        severity = "high"
    strings:
        $auto1 = "AutoOpen" ascii nocase
        $auto2 = "Document_Open" ascii nocase
        $auto3 = "Workbook_Open" ascii nocase
        $run1 = "WScript.Shell" ascii nocase
        $run2 = "Shell(" ascii nocase
        $run3 = "CreateObject(\"MSXML2.XMLHTTP\")" ascii nocase
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1
        and any of ($auto*) and any of ($run*)
}

rule RansomNoteText
{
    meta:
        description = "Text of a ransom note with a payment address"
        severity = "high"
    strings:
        $t1 = "files have been encrypted" ascii wide nocase
        $t2 = "decrypt your files" ascii wide nocase
        $t3 = "private key" ascii wide nocase
        $btc = /\b(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,39}\b/
        $onion = /[a-z2-7]{56}\.onion/
    condition:
        filesize < 64KB and 2 of ($t*) and ($btc or $onion)
}

rule PdfLaunchAction
{
    meta:
        description = "PDF with a /Launch action or JavaScript that runs on open"
        severity = "medium"
    strings:
        $launch = "/Launch" ascii
        $js = "/JavaScript" ascii
        $open = "/OpenAction" ascii
        $cmd = /\/F\s*\(\s*cmd\.exe/ ascii nocase
    condition:
        uint32(0) == 0x46445025 and ($launch or $cmd or ($open and $js))
}
