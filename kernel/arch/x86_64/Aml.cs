using System;
using GuestOS.Drivers.Virtio;

namespace GuestOS.Kernel.Arch
{
    // Just enough of ACPI's AML (ACPI 6.5 chapter 20) to find devices by a string _HID and
    // read the memory range and interrupt of their _CRS, as QEMU's microvm DSDT has them:
    //     Scope (\_SB) { Device (VR00) { Name (_HID, "LNRO0005") Name (_UID, 0) Name (_CCA, 1)
    //         Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, 0x200)
    //                                           Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { gsi } }) } }
    // (hw/i386/acpi-microvm.c acpi_dsdt_add_virtio). A real walk, not a byte search: term
    // lists are followed object by object; Scope and Device bodies are entered; Method, Field,
    // If, Buffer, Package and the like are stepped over by their PkgLength; Name's data,
    // OperationRegion, Mutex and Event are decoded. Anything else cannot be stepped over without a full interpreter, so the walk of
    // that list stops there (Problem says where). Every read is checked against the table's end.
    // Nothing here allocates or prints, so the hosted tests compile this file as it is.
    public static unsafe class Aml
    {
        private const byte ZeroOp = 0x00, OneOp = 0x01, NameOp = 0x08, BytePrefix = 0x0A, WordPrefix = 0x0B,
                           DWordPrefix = 0x0C, StringPrefix = 0x0D, QWordPrefix = 0x0E, ScopeOp = 0x10,
                           BufferOp = 0x11, PackageOp = 0x12, VarPackageOp = 0x13, MethodOp = 0x14,
                           DualNamePrefix = 0x2E, MultiNamePrefix = 0x2F, ExtOpPrefix = 0x5B, RootChar = 0x5C,
                           ParentPrefixChar = 0x5E, IfOp = 0xA0, ElseOp = 0xA1, WhileOp = 0xA2, OnesOp = 0xFF;
        private const byte MutexOp = 0x01, EventOp = 0x02, OpRegionOp = 0x80, FieldOp = 0x81, DeviceOp = 0x82, ProcessorOp = 0x83,
                           PowerResOp = 0x84, ThermalZoneOp = 0x85, IndexFieldOp = 0x86, BankFieldOp = 0x87;
        private const int MaxDepth = 16;

        // Resource descriptors (ACPI 6.5 6.4): large items used here, and the small end tag.
        private const byte LargeMemory32Fixed = 0x86, LargeExtendedInterrupt = 0x89, SmallEndTag = 0x0F;
        private const byte InterruptEdge = 1 << 1, InterruptActiveLow = 1 << 2;

        // Why the last walk stopped early (ProblemCode 0 if it did not), at which body offset.
        public static int ProblemCode, ProblemAt;
        public const int BadName = 1;   // a bad NameString
        public const int TooDeep = 2;   // nesting deeper than 16
        public const int BadOpRegion = 3;   // a bad OpRegion
        public const int OpRegionNotConstant = 4;   // an OpRegion whose offset or length is not a constant
        public const int NameDataUnknown = 5;   // a Name whose data is not a constant, string, buffer or package
        public const int UnknownOpcode = 6;   // an opcode this walker does not step over
        public const int PkgLengthPastEnd = 7;   // a PkgLength past the end
        public const int PackageTooLong = 8;   // a package longer than what holds it
        public const int DescriptorPastEnd = 9;   // a resource descriptor past the end of its buffer

        public static ReadOnlySpan<byte> Problem => ProblemCode == 0 ? "none"u8
                : ProblemCode == BadName ? "a bad NameString"u8
                : ProblemCode == TooDeep ? "nesting deeper than 16"u8
                : ProblemCode == BadOpRegion ? "a bad OpRegion"u8
                : ProblemCode == OpRegionNotConstant ? "an OpRegion whose offset or length is not a constant"u8
                : ProblemCode == NameDataUnknown ? "a Name whose data is not a constant, string, buffer or package"u8
                : ProblemCode == UnknownOpcode ? "an opcode this walker does not step over"u8
                : ProblemCode == PkgLengthPastEnd ? "a PkgLength past the end"u8
                : ProblemCode == PackageTooLong ? "a package longer than what holds it"u8
                : ProblemCode == DescriptorPastEnd ? "a resource descriptor past the end of its buffer"u8
                : "unknown"u8;

        private static byte* aml;
        private static int found;
        private static VirtioMmioSlot[] results;

        // Walk the AML of a DSDT/SSDT body (the bytes after the 36-byte header) for devices whose
        // _HID is the string `hid`; fill `into` with up to its length of them, return how many
        // there are. A device whose _CRS lacks a Memory32Fixed is not counted; one without an
        // Extended Interrupt is, with Irq.Valid false.
        public static int FindDevices(byte* body, int length, ReadOnlySpan<byte> hid, VirtioMmioSlot[] into)
        {
            aml = body; found = 0; results = into;
            ProblemCode = 0; ProblemAt = -1;
            if (HasStringLiteral(length, hid)) TermList(0, length, 0, false, hid);
            return found;
        }

        // A _HID this walker can match is a String in the AML: StringPrefix, the characters, a
        // NUL (20.2.3). A table without that byte sequence has no such device, so the walk is
        // skipped: q35's and pc's DSDTs (~8 KiB of hotplug and PCI methods) never hold virtio-mmio,
        // and walking them cost ~1.3 ms of first-execution translation before DRIVER_OK.
        private static bool HasStringLiteral(int length, ReadOnlySpan<byte> s)
        {
            for (int at = 0; at + s.Length + 1 < length; at++)
            {
                if (aml[at] != StringPrefix || aml[at + s.Length + 1] != 0) continue;
                int i = 0;
                while (i < s.Length && aml[at + 1 + i] == s[i]) i++;
                if (i == s.Length) return true;
            }
            return false;
        }

        // A term list [at, end). inDevice: the list is a Device body, whose Name (_HID) and
        // Name (_CRS) are looked at.
        private static void TermList(int at, int end, int depth, bool inDevice, ReadOnlySpan<byte> hid)
        {
            bool hidMatches = false;
            int crs = -1, crsEnd = -1;
            while (at < end)
            {
                byte op = aml[at];
                if (op == ScopeOp || (op == ExtOpPrefix && at + 1 < end && aml[at + 1] == DeviceOp))
                {
                    int pkg = op == ScopeOp ? at + 1 : at + 2;
                    if (!PkgLength(pkg, end, out int pkgEnd, out int afterLength)) return;
                    int body = NameString(afterLength, pkgEnd);
                    if (body < 0) { Stop(BadName, afterLength); return; }
                    if (depth >= MaxDepth) { Stop(TooDeep, at); return; }
                    TermList(body, pkgEnd, depth + 1, op != ScopeOp, hid);
                    at = pkgEnd;
                }
                else if (op == MethodOp || op == IfOp || op == ElseOp || op == WhileOp || op == BufferOp || op == PackageOp || op == VarPackageOp)
                {
                    if (!PkgLength(at + 1, end, out at, out _)) return;
                }
                else if (op == ExtOpPrefix && at + 1 < end && IsExtWithPkgLength(aml[at + 1]))
                {
                    if (!PkgLength(at + 2, end, out at, out _)) return;
                }
                else if (op == ExtOpPrefix && at + 1 < end && (aml[at + 1] == MutexOp || aml[at + 1] == EventOp))
                {
                    // Mutex: NameString, SyncFlags byte (QEMU's CPU and memory hotplug locks); Event: NameString.
                    int next = NameString(at + 2, end);
                    if (next < 0 || (aml[at + 1] == MutexOp && ++next > end)) { Stop(BadName, at + 2); return; }
                    at = next;
                }
                else if (op == ExtOpPrefix && at + 1 < end && aml[at + 1] == OpRegionOp)
                {
                    // OpRegion: NameString, RegionSpace byte, RegionOffset and RegionLen (integers here).
                    int next = NameString(at + 2, end);
                    if (next < 0 || next >= end) { Stop(BadOpRegion, at); return; }
                    next = DataObject(next + 1, end);
                    if (next >= 0) next = DataObject(next, end);
                    if (next < 0) { Stop(OpRegionNotConstant, at); return; }
                    at = next;
                }
                else if (op == NameOp)
                {
                    int data = NameString(at + 1, end);
                    if (data < 0) { Stop(BadName, at + 1); return; }
                    int next = DataObject(data, end);
                    if (next < 0) { Stop(NameDataUnknown, data); return; }
                    if (inDevice && data - (at + 1) == 4)
                    {
                        if (Is(at + 1, "_HID"u8)) hidMatches = aml[data] == StringPrefix && StringEquals(data + 1, next, hid);
                        else if (Is(at + 1, "_CRS"u8) && aml[data] == BufferOp && BufferBytes(data, end, out crs)) crsEnd = next;
                    }
                    at = next;
                }
                else { Stop(UnknownOpcode, at); return; }
            }
            if (inDevice && hidMatches && crs >= 0) Device(crs, crsEnd);
        }

        // The Field family, Processor, PowerResource, ThermalZone: ExtOpPrefix, op, PkgLength.
        private static bool IsExtWithPkgLength(byte op)
            => op == FieldOp || op == ProcessorOp || op == PowerResOp || op == ThermalZoneOp || op == IndexFieldOp || op == BankFieldOp;

        // PkgLength (ACPI 6.5 20.2.4): bits 7-6 of the lead byte = how many bytes follow; with
        // none, bits 5-0 are the length; otherwise bits 3-0 are its low nibble and each
        // following byte adds 8 more bits. The length counts from the lead byte itself.
        private static bool PkgLength(int at, int end, out int pkgEnd, out int afterLength)
        {
            pkgEnd = afterLength = -1;
            if (at >= end) return Stop(PkgLengthPastEnd, at);
            byte lead = aml[at];
            int follow = lead >> 6;
            if (at + 1 + follow > end) return Stop(PkgLengthPastEnd, at);
            int length = follow == 0 ? lead & 0x3F : lead & 0x0F;
            for (int i = 0; i < follow; i++) length |= aml[at + 1 + i] << (4 + 8 * i);
            if (length < 1 + follow || at + length > end) return Stop(PackageTooLong, at);
            pkgEnd = at + length;
            afterLength = at + 1 + follow;
            return true;
        }

        // NameString (20.2.2): prefixes \ and ^, then a NameSeg, DualNamePrefix + 2, MultiNamePrefix
        // + count + count, or NullName. Returns the offset after it, -1 if malformed.
        private static int NameString(int at, int end)
        {
            while (at < end && (aml[at] == RootChar || aml[at] == ParentPrefixChar)) at++;
            if (at >= end) return -1;
            int segments = 1;
            if (aml[at] == ZeroOp) return at + 1;
            if (aml[at] == DualNamePrefix) { segments = 2; at++; }
            else if (aml[at] == MultiNamePrefix) { if (at + 1 >= end) return -1; segments = aml[at + 1]; at += 2; }
            if (at + 4 * segments > end) return -1;
            for (int s = 0; s < segments; s++)
                if (!IsLeadNameChar(aml[at + 4 * s])) return -1;
            return at + 4 * segments;
        }

        private static bool IsLeadNameChar(byte c) => c == '_' || (c >= 'A' && c <= 'Z');

        // A DataRefObject as Name uses it: integer constants, a string, or a buffer / package
        // (stepped over by its PkgLength). Returns the offset after it, -1 otherwise.
        private static int DataObject(int at, int end)
        {
            if (at >= end) return -1;
            byte op = aml[at];
            int size = op == ZeroOp || op == OneOp || op == OnesOp ? 1 : op == BytePrefix ? 2 : op == WordPrefix ? 3
                     : op == DWordPrefix ? 5 : op == QWordPrefix ? 9 : 0;
            if (size != 0) return at + size <= end ? at + size : -1;
            if (op == StringPrefix)
            {
                for (int i = at + 1; i < end; i++) if (aml[i] == 0) return i + 1;
                return -1;
            }
            if (op == BufferOp || op == PackageOp || op == VarPackageOp)
                return PkgLength(at + 1, end, out int pkgEnd, out _) ? pkgEnd : -1;
            return -1;
        }

        // A Buffer's bytes: BufferOp PkgLength BufferSize(an integer constant) ByteList.
        private static bool BufferBytes(int at, int end, out int bytes)
        {
            bytes = -1;
            if (!PkgLength(at + 1, end, out int pkgEnd, out int sizeAt)) return false;
            int next = DataObject(sizeAt, pkgEnd);
            if (next < 0 || aml[sizeAt] == StringPrefix || aml[sizeAt] == BufferOp || aml[sizeAt] == PackageOp) return false;
            bytes = next;
            return true;
        }

        // A matching device's resource template [at, end): its Memory32Fixed and first
        // Extended Interrupt (flags: bit 1 edge, else level; bit 2 active low).
        private static void Device(int at, int end)
        {
            VirtioMmioSlot slot = default;
            bool memory = false;
            while (at < end)
            {
                byte tag = aml[at];
                if ((tag & 0x80) == 0)
                {
                    if ((tag >> 3 & 0xF) == SmallEndTag) break;
                    at += 1 + (tag & 7);
                    continue;
                }
                if (at + 3 > end) { Stop(DescriptorPastEnd, at); return; }
                int length = aml[at + 1] | aml[at + 2] << 8, body = at + 3;
                if (body + length > end) { Stop(DescriptorPastEnd, at); return; }
                if (tag == LargeMemory32Fixed && length >= 9)
                {
                    slot.Phys = U32(body + 1);
                    slot.Size = U32(body + 5);
                    memory = true;
                }
                else if (tag == LargeExtendedInterrupt && length >= 6 && aml[body + 1] >= 1 && 2 + 4 * aml[body + 1] <= length && !slot.Irq.Valid)
                {
                    slot.Irq.Number = U32(body + 2);
                    slot.Irq.Level = (aml[body] & InterruptEdge) == 0;
                    slot.Irq.ActiveLow = (aml[body] & InterruptActiveLow) != 0;
                    slot.Irq.Valid = true;
                }
                at = body + length;
            }
            if (!memory) return;
            if (found < results.Length) results[found] = slot;
            found++;
        }

        private static uint U32(int at) => (uint)(aml[at] | aml[at + 1] << 8 | aml[at + 2] << 16 | aml[at + 3] << 24);

        private static bool Is(int at, ReadOnlySpan<byte> seg)
            => aml[at] == seg[0] && aml[at + 1] == seg[1] && aml[at + 2] == seg[2] && aml[at + 3] == seg[3];

        // The string at [at, end) (NUL-terminated, the NUL before end) equals the wanted _HID.
        private static bool StringEquals(int at, int end, ReadOnlySpan<byte> wanted)
        {
            if (end - at != wanted.Length + 1) return false;
            for (int i = 0; i < wanted.Length; i++) if (aml[at + i] != wanted[i]) return false;
            return true;
        }

        private static bool Stop(int code, int at)
        {
            if (ProblemCode == 0) { ProblemCode = code; ProblemAt = at; }
            return false;
        }
    }
}
