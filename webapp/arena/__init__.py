"""The blind arena: two bots answer as "Bot A" and "Bot B", the member votes,
the names are revealed; the team's votes make a Bradley-Terry leaderboard."""
