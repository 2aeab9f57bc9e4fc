using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // The device status field (virtio 1.2 §2.1), Linux's VIRTIO_CONFIG_S_* bits.
    public static class VirtioStatus
    {
        public const byte ACKNOWLEDGE = 1;          // the guest has noticed the device
        public const byte DRIVER = 2;               // the guest knows how to drive it
        public const byte DRIVER_OK = 4;            // the driver is set up and ready
        public const byte FEATURES_OK = 8;          // feature negotiation is complete
        public const byte DEVICE_NEEDS_RESET = 0x40;// the device hit an error it cannot recover from
        public const byte FAILED = 0x80;            // the guest gave up on the device

        // "ACKNOWLEDGE|DRIVER|FEATURES_OK" for narration.
        public static void Print(byte status)
        {
            if (status == 0) { Log.Write("0"u8); return; }
            bool first = true;
            PrintBit(status, ACKNOWLEDGE, "ACKNOWLEDGE"u8, ref first);
            PrintBit(status, DRIVER, "DRIVER"u8, ref first);
            PrintBit(status, FEATURES_OK, "FEATURES_OK"u8, ref first);
            PrintBit(status, DRIVER_OK, "DRIVER_OK"u8, ref first);
            PrintBit(status, DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET"u8, ref first);
            PrintBit(status, FAILED, "FAILED"u8, ref first);
            byte known = ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | DEVICE_NEEDS_RESET | FAILED;
            if ((status & ~known) != 0)
            {
                if (!first) Log.Write('|');
                Log.Hex((ulong)(status & ~known));
            }
        }

        private static void PrintBit(byte status, byte bit, ReadOnlySpan<byte> name, ref bool first)
        {
            if ((status & bit) == 0) return;
            if (!first) Log.Write('|');
            Log.Write(name);
            first = false;
        }
    }
}
