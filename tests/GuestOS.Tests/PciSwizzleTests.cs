using System.Linq;
using GuestOS.Drivers.Pci;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // INTx behind bridges (PCI-to-PCI Bridge Architecture 1.2, table 9-1): each bridge rotates
    // its secondary side's pins by the device number, and the host bridge's routing names the
    // topmost bridge's slot. Expected values computed by hand from the table.
    public class PciSwizzleTests
    {
        private static PciDevice Find(string bdf) =>
            PciScan.Enumerate(_machine.Cfg, _machine.Windows).Single(d => $"{d.Bus:x2}:{d.Dev:x2}.{d.Fn}" == bdf);

        private static TestMachine _machine;

        // 00:05.0 bridge -> bus 1: 01:03.0 bridge -> bus 2: 02:02.0 the function.
        private static void TwoBridgesDeep()
        {
            _machine = TestMachine.Virt();
            var top = _machine.P.Root.Add(5, 0, new SimBridge());
            var mid = top.Secondary.Add(3, 0, new SimBridge());
            mid.Secondary.Add(2, 0, new SimVirtioDevice());
        }

        // Device 2 turns a pin by 2 onto bus 1, the bridge at device 3 by 3 more onto bus 0:
        // by 5, which is 1 mod 4 (table 9-1's row for devices 1, 5, 9...): INTA -> INTB.
        [Theory]
        [InlineData(1, 2)]
        [InlineData(2, 3)]
        [InlineData(3, 4)]
        [InlineData(4, 1)]
        public void A_pin_two_bridges_down_reaches_the_root_bus_at_the_top_bridge_turned_twice(byte pin, byte expected)
        {
            TwoBridgesDeep();
            PciDevice f = Find("02:02.0");
            byte p = pin;
            PciDevice atRoot = PciSwizzle.pci_common_swizzle(f, ref p);
            Assert.Equal("00:05.0", $"{atRoot.Bus:x2}:{atRoot.Dev:x2}.{atRoot.Fn}");
            Assert.Equal((ushort)(5 << 3), atRoot.RequesterId);
            Assert.Equal(expected, p);
        }

        [Fact]
        public void A_function_on_the_root_bus_is_its_own_route()
        {
            _machine = TestMachine.Virt();
            _machine.P.Root.Add(4, 0, new SimVirtioDevice());
            PciDevice f = Find("00:04.0");
            byte p = 2;
            Assert.Same(f, PciSwizzle.pci_common_swizzle(f, ref p));
            Assert.Equal(2, p);
        }
    }
}
