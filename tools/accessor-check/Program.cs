using GuestOS.AccessorCheck;

return AccessorCheckCli.Run(args, Console.Out, Console.Error);
