/** Climate of one simulated city: enough to make readings plausible. */
export interface City {
  /** IATA-style metropolitan code, upper case: the `city_code` clients send. */
  readonly code: string;
  readonly name: string;
  /** Mean annual temperature, °C. */
  readonly meanTempC: number;
  /** Half the spread between the warmest and the coldest month, °C. */
  readonly seasonalSwingC: number;
  /** Half the spread between afternoon and pre-dawn, °C. */
  readonly dailySwingC: number;
  /** Mean relative humidity, %. */
  readonly meanHumidity: number;
  /** Degrees east; sets local solar time for the daily cycle. */
  readonly longitude: number;
  /** True south of the equator: seasons are flipped. */
  readonly southern: boolean;
}

const city = (
  code: string,
  name: string,
  meanTempC: number,
  seasonalSwingC: number,
  dailySwingC: number,
  meanHumidity: number,
  longitude: number,
  southern = false,
): City => ({ code, name, meanTempC, seasonalSwingC, dailySwingC, meanHumidity, longitude, southern });

/** The cities the reference server knows, keyed by code. */
export const CITIES: ReadonlyMap<string, City> = new Map(
  [
    city("NYC", "New York", 13, 12, 4, 63, -74),
    city("LON", "London", 11.5, 7, 4, 77, 0),
    city("PAR", "Paris", 12.5, 8, 5, 72, 2.3),
    city("BER", "Berlin", 10, 9.5, 5, 73, 13.4),
    city("MAD", "Madrid", 15, 10, 7, 57, -3.7),
    city("ROM", "Rome", 16, 8.5, 6, 70, 12.5),
    city("MOW", "Moscow", 6, 14, 4, 76, 37.6),
    city("IST", "Istanbul", 15, 9, 4, 72, 29),
    city("CAI", "Cairo", 22.5, 7, 7, 56, 31.2),
    city("DXB", "Dubai", 28, 7.5, 5, 60, 55.3),
    city("BOM", "Mumbai", 27.5, 2.5, 3.5, 72, 72.9),
    city("DEL", "Delhi", 25, 8.5, 6.5, 58, 77.2),
    city("BKK", "Bangkok", 28.5, 2, 4, 74, 100.5),
    city("SIN", "Singapore", 27.5, 1, 3.5, 83, 103.8),
    city("HKG", "Hong Kong", 23.5, 6, 3, 78, 114.2),
    city("BJS", "Beijing", 12.5, 14.5, 5.5, 55, 116.4),
    city("SEL", "Seoul", 12.5, 14, 4.5, 65, 127),
    city("TYO", "Tokyo", 16, 10, 4, 65, 139.7),
    city("SYD", "Sydney", 18, 5, 4, 68, 151.2, true),
    city("AKL", "Auckland", 15.5, 4.5, 4, 78, 174.8, true),
    city("JNB", "Johannesburg", 16, 5, 7, 58, 28, true),
    city("SAO", "São Paulo", 19.5, 3.5, 5, 78, -46.6, true),
    city("BUE", "Buenos Aires", 17.5, 6.5, 5, 73, -58.4, true),
    city("MEX", "Mexico City", 16.5, 3, 8, 58, -99.1),
    city("CHI", "Chicago", 10.5, 14, 4.5, 70, -87.6),
    city("LAX", "Los Angeles", 18.5, 4, 5, 65, -118.2),
    city("YTO", "Toronto", 8.5, 13, 4.5, 72, -79.4),
    city("REK", "Reykjavik", 5, 5, 2.5, 78, -21.9),
  ].map((c) => [c.code, c]),
);
