using System;
using System.Text;

namespace GuestOS.Hal
{
    // HAL contract: console output built from pieces. Hosted: into a buffer tests can read.
    public static class Log
    {
        public static bool Quiet;

        public static void Write(string text) { Hosted.LogBuffer.Text.Append(text); }
        public static void Write(ReadOnlySpan<byte> text) { Hosted.LogBuffer.Text.Append(Encoding.ASCII.GetString(text)); }
        public static void Write(char c) { Hosted.LogBuffer.Text.Append(c); }
        public static void Hex(ulong value) { Hosted.LogBuffer.Text.Append("0x").Append(value.ToString("x")); }
        // At least `digits` digits, as the kernel's Log.Hex: a wider value is never cut.
        public static void Hex(ulong value, int digits) { Hosted.LogBuffer.Text.Append("0x").Append(value.ToString("x" + digits)); }
        public static void Dec(ulong value) { Hosted.LogBuffer.Text.Append(value); }
        public static void DecSigned(long value) { Hosted.LogBuffer.Text.Append(value); }
        public static void Line()
        {
            Hosted.LogBuffer.Text.Append('\n');
            if (Hosted.LogBuffer.Echo) System.Console.Out.Write(Hosted.LogBuffer.Text.ToString(Hosted.LogBuffer.LineStart, Hosted.LogBuffer.Text.Length - Hosted.LogBuffer.LineStart));
            Hosted.LogBuffer.LineStart = Hosted.LogBuffer.Text.Length;
        }
    }
}

namespace GuestOS.Hal.Hosted
{
    public static class LogBuffer
    {
        public static readonly StringBuilder Text = new StringBuilder();
        public static int LineStart;
        public static bool Echo;
        public static string Contents => Text.ToString();
        public static void Reset() { Text.Clear(); LineStart = 0; Echo = false; GuestOS.Hal.Log.Quiet = false; }
    }
}
