"""How pages print dates and times where no format is given (the staff lists and forms):
day month year, 24-hour time, and the zone, so no one has to guess which zone a time is in."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i"
