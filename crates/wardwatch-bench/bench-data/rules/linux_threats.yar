/*
 * wardwatch bench rules: Linux implants seen on hospital servers — coin miners,
 * reverse shells and ransomware for ESXi/Linux hosts.
 */

rule ElfCoinMiner
{
    meta:
        description = "ELF with mining-pool strings"
        severity = "medium"
    strings:
        $pool1 = "stratum+tcp://" ascii
        $pool2 = "stratum+ssl://" ascii
        $algo1 = "cryptonight" ascii nocase
        $algo2 = "randomx" ascii nocase
        $cfg = "\"donate-level\"" ascii
    condition:
        uint32(0) == 0x464C457F and any of ($pool*) and (any of ($algo*) or $cfg)
}

rule ShellReverseConnect
{
    meta:
        description = "Script opening a reverse shell over /dev/tcp or netcat"
        severity = "high"
    strings:
        $devtcp = /(bash|sh)\s+-i\s+>&\s*\/dev\/tcp\/[0-9]{1,3}(\.[0-9]{1,3}){3}\/[0-9]{2,5}/
        $nc = /nc(at)?\s+(-[a-z]+\s+)*-e\s+\/bin\/(ba)?sh/
        $py = "socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((" ascii
    condition:
        filesize < 256KB and any of them
}

rule LinuxRansomwareEsxi
{
    meta:
        description = "ELF that stops VMs and leaves a ransom note"
        severity = "critical"
    strings:
        $vm1 = "esxcli vm process kill" ascii
        $vm2 = "vim-cmd vmsvc/power.off" ascii
        $note1 = "Your files have been encrypted" ascii nocase
        $note2 = "All your files are encrypted" ascii nocase
        $ext = { 2E 76 6D 64 6B [0-16] 2E 76 6D 78 }
        $tor = /[a-z2-7]{56}\.onion/
    condition:
        uint32(0) == 0x464C457F and filesize < 16MB
        and (any of ($vm*)) and (any of ($note*) or $tor or $ext)
}
