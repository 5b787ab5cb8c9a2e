#!/usr/bin/env bash
# Says loudly whether the VM tests can run here; fails if GLINT_REQUIRE_KVM=1 and /dev/kvm is unusable.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    echo "  KVM     /dev/kvm is usable: VM tests run for real"
    exit 0
fi
echo "*******************************************************************"
echo "*** /dev/kvm is missing or not accessible: VM tests will SKIP.  ***"
echo "*** Skipped tests are not passes. Run on a machine with KVM.    ***"
echo "*******************************************************************"
[ "${GLINT_REQUIRE_KVM:-0}" = 1 ] && { echo "GLINT_REQUIRE_KVM=1: failing" >&2; exit 1; }
exit 0
