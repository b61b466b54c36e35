#!/bin/sh
# Turns `nm -n` output (on stdin, or /dev/null for an empty table) into an assembly file
# holding enso's symbol table for backtraces: sorted addresses, then NUL-terminated names.
# Only text symbols are kept; the table lives in section .symtab_enso.
in=${1:--}
[ "$in" = - ] && in=/dev/stdin
awk 'BEGIN { n = 0 }
$2 ~ /^[tTwW]$/ && $3 !~ /^\.L/ { addr[n] = $1; name[n] = $3; n++ }
END {
    print "\t.section .symtab_enso, \"a\", @progbits"
    print "\t.balign 8"
    print "\t.globl enso_symtab_addrs, enso_symtab_names, enso_symtab_count"
    print "enso_symtab_count:\n\t.quad " n
    print "enso_symtab_addrs:"
    for (i = 0; i < n; i++) print "\t.quad 0x" addr[i]
    print "enso_symtab_names:"
    for (i = 0; i < n; i++) print "\t.asciz \"" name[i] "\""
}' "$in"
