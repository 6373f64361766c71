"""Reports and exports: findings report (PDF, Word, HTML), self-evaluation pack, charts,
disclosure control, and the Excel/CSV exports."""
