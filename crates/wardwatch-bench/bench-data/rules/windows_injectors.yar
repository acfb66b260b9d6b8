/*
 * wardwatch bench rules: Windows executables that inject into other processes or
 * dump credentials. No `pe` module: ClamAV's YARA support has none, and the bench
 * runs the same rules in every engine.
 */

rule PeRemoteThreadInjector
{
    meta:
        description = "PE importing the classic remote-thread injection triad"
        severity = "medium"
    strings:
        $a1 = "VirtualAllocEx" ascii wide
        $a2 = "WriteProcessMemory" ascii wide
        $a3 = "CreateRemoteThread" ascii wide
        $a4 = "NtUnmapViewOfSection" ascii wide
        $a5 = "QueueUserAPC" ascii wide
    condition:
        uint16(0) == 0x5A4D and filesize < 4MB and 3 of ($a*)
}

rule PeCredentialDumper
{
    meta:
        description = "Strings of LSASS credential dumpers"
        severity = "critical"
    strings:
        $s1 = "sekurlsa::logonpasswords" ascii wide nocase
        $s2 = "lsadump::sam" ascii wide nocase
        $s3 = "MiniDumpWriteDump" ascii
        $s4 = "lsass.exe" ascii wide nocase
        // "mimikatz" XOR-free but split by a byte, as some repacks do
        $s5 = { 6D 69 6D 69 [0-1] 6B 61 74 7A }
    condition:
        uint16(0) == 0x5A4D and (($s1 or $s2 or $s5) or ($s3 and $s4))
}

rule PeSuspiciousStub
{
    meta:
        description = "PE whose DOS stub was rewritten and that carries a shellcode prologue"
        severity = "low"
    strings:
        // 32-bit shellcode: call $+5; pop ebp; sub ebp, imm32
        $sc32 = { E8 00 00 00 00 5D 81 ED ?? ?? ?? ?? }
        // 64-bit: a PEB walk through gs:[0x60]
        $sc64 = { 65 48 8B ?? 60 00 00 00 48 8B ?? 18 }
        $stub = "This program cannot be run in DOS mode" ascii
    condition:
        uint16(0) == 0x5A4D and filesize < 8MB and not $stub and any of ($sc*)
}
