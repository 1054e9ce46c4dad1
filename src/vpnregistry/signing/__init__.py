"""The registry's signing: minisign's format (`minisign`, pure, no Django: the operators' sync
client uses it too) and the registry's keys (`keys`), whose public halves the database keeps for good
(`models.SigningPublicKey`). The allowlist, audit checkpoints and exemption statements are signed
with them, so this app sits below all three."""
