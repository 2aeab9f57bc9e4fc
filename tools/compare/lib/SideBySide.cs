using System.Text;

namespace GuestOS.Compare;

/// <summary>One row of the comparison: a step of either side or of both, and whether they agree.</summary>
public sealed record AlignedRow(BringUpStep? Left, BringUpStep? Right)
{
    public bool Same => Left is not null && Right is not null;
}

/// <summary>
/// Aligns two bring-up sequences on their keys (longest common subsequence, the way diff does),
/// so that a step only one driver takes shows as "different" without shifting every later row.
/// </summary>
public static class SideBySide
{
    public static IReadOnlyList<AlignedRow> Align(IReadOnlyList<BringUpStep> left, IReadOnlyList<BringUpStep> right)
    {
        int n = left.Count, m = right.Count;
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                lcs[i, j] = left[i].Key == right[j].Key ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        var rows = new List<AlignedRow>();
        int a = 0, b = 0;
        while (a < n || b < m)
        {
            if (a < n && b < m && left[a].Key == right[b].Key) rows.Add(new(left[a++], right[b++]));
            else if (b >= m || (a < n && lcs[a + 1, b] >= lcs[a, b + 1])) rows.Add(new(left[a++], null));
            else rows.Add(new(null, right[b++]));
        }
        return rows;
    }

    /// <summary>The table: step number, left, right, same/different.</summary>
    public static string Render(IReadOnlyList<AlignedRow> rows, string leftTitle, string rightTitle)
    {
        int width = Math.Max(leftTitle.Length, rows.Select(r => r.Left?.Key.Length ?? 0).DefaultIfEmpty(0).Max());
        int widthRight = Math.Max(rightTitle.Length, rows.Select(r => r.Right?.Key.Length ?? 0).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.AppendLine($"{"#",3}  {leftTitle.PadRight(width)}  {rightTitle.PadRight(widthRight)}  verdict");
        StepPhase? phase = null;
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var rowPhase = (row.Left ?? row.Right)!.Phase;
            if (rowPhase != phase)
            {
                phase = rowPhase;
                sb.AppendLine($"     -- {PhaseTitle(rowPhase)} --");
            }
            sb.AppendLine($"{i + 1,3}  {(row.Left?.Key ?? "-").PadRight(width)}  {(row.Right?.Key ?? "-").PadRight(widthRight)}  {(row.Same ? "same" : "DIFFERENT")}");
        }
        return sb.ToString();
    }

    private static string PhaseTitle(StepPhase phase) => phase switch
    {
        StepPhase.BringUp => "bring-up (virtio 1.2, 3.1.1)",
        StepPhase.FirstRequest => "first request",
        _ => "shutdown",
    };
}
