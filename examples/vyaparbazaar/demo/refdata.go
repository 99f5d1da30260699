package demo

// Reference data the generator draws from. It is small and fixed; the large
// tables are produced from it inside DuckDB.

// warehouse is a fulfilment centre.
type warehouse struct {
	ID      int
	Code    string
	Name    string
	City    string
	State   string
	Pincode string
	Opened  string // DATE
}

var warehouses = []warehouse{
	{1, "BOM1", "Bhiwandi Fulfilment Centre", "Bhiwandi", "Maharashtra", "421302", "2019-04-01"},
	{2, "DEL1", "Gurugram Fulfilment Centre", "Gurugram", "Haryana", "122413", "2019-08-15"},
	{3, "BLR1", "Bengaluru Fulfilment Centre", "Bengaluru", "Karnataka", "562123", "2020-01-10"},
	{4, "CCU1", "Kolkata Fulfilment Centre", "Kolkata", "West Bengal", "711303", "2021-06-01"},
	{5, "HYD1", "Hyderabad Fulfilment Centre", "Hyderabad", "Telangana", "500108", "2022-02-01"},
}

// city is a shipping destination. PinBase is the first pincode of the city;
// generated pincodes are PinBase + 0..PinSpan-1, so they keep the city's
// postal-circle prefix (and so stay consistent with the state).
type city struct {
	Name      string
	State     string
	Region    string // North, South, East, West, Central, Northeast: picks surnames
	PinBase   int
	Weight    float64 // share of customers
	Tier      int     // 1 metro, 2 other
	Warehouse int     // home fulfilment centre
}

const pinSpan = 40

var cities = []city{
	{"Mumbai", "Maharashtra", "West", 400001, 9, 1, 1},
	{"Thane", "Maharashtra", "West", 400601, 3, 1, 1},
	{"Pune", "Maharashtra", "West", 411001, 5, 1, 1},
	{"Nagpur", "Maharashtra", "Central", 440001, 1.5, 2, 1},
	{"Nashik", "Maharashtra", "West", 422001, 1, 2, 1},
	{"Ahmedabad", "Gujarat", "West", 380001, 4, 1, 1},
	{"Surat", "Gujarat", "West", 395001, 3, 2, 1},
	{"Vadodara", "Gujarat", "West", 390001, 1.5, 2, 1},
	{"Panaji", "Goa", "West", 403001, 0.5, 2, 1},
	{"Indore", "Madhya Pradesh", "Central", 452001, 2, 2, 1},
	{"Bhopal", "Madhya Pradesh", "Central", 462001, 1.5, 2, 1},
	{"Jaipur", "Rajasthan", "North", 302001, 2.5, 2, 2},
	{"New Delhi", "Delhi", "North", 110001, 9, 1, 2},
	{"Gurugram", "Haryana", "North", 122001, 3, 1, 2},
	{"Noida", "Uttar Pradesh", "North", 201301, 3, 1, 2},
	{"Lucknow", "Uttar Pradesh", "North", 226001, 2.5, 2, 2},
	{"Kanpur", "Uttar Pradesh", "North", 208001, 1.5, 2, 2},
	{"Chandigarh", "Chandigarh", "North", 160001, 1.5, 2, 2},
	{"Ludhiana", "Punjab", "North", 141001, 1.5, 2, 2},
	{"Dehradun", "Uttarakhand", "North", 248001, 1, 2, 2},
	{"Bengaluru", "Karnataka", "South", 560001, 9, 1, 3},
	{"Mysuru", "Karnataka", "South", 570001, 1, 2, 3},
	{"Chennai", "Tamil Nadu", "South", 600001, 6, 1, 3},
	{"Coimbatore", "Tamil Nadu", "South", 641001, 2, 2, 3},
	{"Kochi", "Kerala", "South", 682001, 2, 2, 3},
	{"Thiruvananthapuram", "Kerala", "South", 695001, 1.5, 2, 3},
	{"Hyderabad", "Telangana", "South", 500001, 7, 1, 5},
	{"Visakhapatnam", "Andhra Pradesh", "South", 530001, 1.5, 2, 5},
	{"Vijayawada", "Andhra Pradesh", "South", 520001, 1.2, 2, 5},
	{"Kolkata", "West Bengal", "East", 700001, 6, 1, 4},
	{"Bhubaneswar", "Odisha", "East", 751001, 1.5, 2, 4},
	{"Patna", "Bihar", "East", 800001, 2, 2, 4},
	{"Ranchi", "Jharkhand", "East", 834001, 1, 2, 4},
	{"Guwahati", "Assam", "Northeast", 781001, 1.5, 2, 4},
}

var firstNames = []string{
	"Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Ayaan", "Krishna", "Ishaan",
	"Rohan", "Rahul", "Amit", "Vikram", "Karan", "Siddharth", "Nikhil", "Manish", "Suresh", "Rajesh",
	"Anil", "Deepak", "Harsh", "Kabir", "Farhan", "Imran", "Gurpreet", "Arnav", "Pranav", "Yash",
	"Aadhya", "Ananya", "Diya", "Saanvi", "Pari", "Anika", "Navya", "Myra", "Sara", "Ira",
	"Priya", "Pooja", "Neha", "Sneha", "Kavya", "Riya", "Meera", "Lakshmi", "Divya", "Anjali",
	"Shreya", "Nandini", "Swati", "Sunita", "Fatima", "Ayesha", "Harleen", "Tanvi", "Ishita", "Kritika",
}

// lastNames by region; "All" names are used everywhere.
var lastNames = map[string][]string{
	"North":     {"Sharma", "Verma", "Gupta", "Singh", "Agarwal", "Chauhan", "Malhotra", "Kapoor", "Saxena", "Srivastava", "Bansal", "Arora"},
	"West":      {"Patel", "Shah", "Desai", "Joshi", "Kulkarni", "Deshpande", "Patil", "Mehta", "Pawar", "Jadhav", "Gandhi", "Parikh"},
	"South":     {"Iyer", "Reddy", "Nair", "Pillai", "Rao", "Krishnan", "Menon", "Naidu", "Subramanian", "Gowda", "Hegde", "Shetty"},
	"East":      {"Banerjee", "Chatterjee", "Das", "Ghosh", "Mukherjee", "Bose", "Sen", "Mishra", "Mohanty", "Sinha", "Roy", "Dutta"},
	"Central":   {"Tiwari", "Dubey", "Pandey", "Shukla", "Yadav", "Chouhan", "Thakur", "Rathore", "Soni", "Jain"},
	"Northeast": {"Baruah", "Bora", "Gogoi", "Saikia", "Kalita", "Hazarika", "Das", "Sarma"},
	"All":       {"Kumar", "Khan", "Jain", "Ali", "Fernandes", "Sethi", "Bhatt", "Chopra", "Qureshi", "DSouza"},
}

var lastNameRegions = []string{"North", "West", "South", "East", "Central", "Northeast", "All"}

var emailDomains = []string{"gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com", "hotmail.com"}

// category is a product category. Top-level categories have Parent 0 and
// hold no products; leaves carry the price model.
type category struct {
	ID     int
	Name   string
	Parent int
	Code   string
	Weight float64 // share of the catalogue (leaves)
	// Price model: MRP log-uniform in [PriceMin, PriceMax]; selling price is
	// MRP less a list discount in [DiscLo, DiscHi]; cost is the ex-GST
	// selling price less a margin in [MarginLo, MarginHi].
	PriceMin, PriceMax float64
	DiscLo, DiscHi     float64
	MarginLo, MarginHi float64
	GST                float64 // percent
	GSTLow             bool    // 5% when the selling price is at most Rs 1,000 (apparel, footwear)
	SaleExtra          float64 // max extra discount on sale days
	QtyMax             int
	Brands             []string
	Nouns              []string
	Variants           []string
}

var categories = []category{
	{ID: 1, Name: "Electronics", Code: "ELE"},
	{ID: 2, Name: "Fashion", Code: "FAS"},
	{ID: 3, Name: "Home & Kitchen", Code: "HOM"},
	{ID: 4, Name: "Beauty & Personal Care", Code: "BTY"},
	{ID: 5, Name: "Grocery & Gourmet", Code: "GRO"},
	{ID: 6, Name: "Books & Stationery", Code: "BKS"},
	{ID: 7, Name: "Sports & Fitness", Code: "SPT"},
	{ID: 8, Name: "Toys & Baby", Code: "TOY"},

	{101, "Mobiles", 1, "MOB", 1.2, 6999, 49999, 0.03, 0.15, 0.06, 0.12, 18, false, 0.06, 1,
		[]string{"Samsung", "Xiaomi", "Realme", "OnePlus", "Vivo", "Oppo", "Apple", "Motorola", "iQOO"},
		[]string{"5G Smartphone", "Smartphone"}, []string{"6GB/128GB", "8GB/128GB", "8GB/256GB", "12GB/256GB"}},
	{102, "Laptops", 1, "LAP", 0.3, 24999, 99999, 0.05, 0.20, 0.05, 0.10, 18, false, 0.06, 1,
		[]string{"HP", "Lenovo", "Dell", "Asus", "Acer", "Apple", "MSI"},
		[]string{"Thin and Light Laptop", "Gaming Laptop", "2-in-1 Laptop"}, []string{"i5/16GB/512GB", "Ryzen 5/16GB/512GB", "i7/16GB/1TB", "Ryzen 7/32GB/1TB"}},
	{103, "Audio", 1, "AUD", 3, 499, 24999, 0.20, 0.60, 0.20, 0.35, 18, false, 0.15, 2,
		[]string{"boAt", "JBL", "Sony", "Noise", "Boult", "Sennheiser"},
		[]string{"Wireless Earbuds", "Bluetooth Headphones", "Neckband", "Party Speaker", "Soundbar"}, []string{"Black", "White", "Blue", "Olive"}},
	{104, "Mobile Accessories", 1, "ACC", 5, 199, 2999, 0.30, 0.70, 0.35, 0.55, 18, false, 0.15, 3,
		[]string{"Ambrane", "Portronics", "Mi", "Spigen", "Anker", "Stuffcool"},
		[]string{"Power Bank", "Fast Charger", "Type-C Cable", "Phone Case", "Tempered Glass"}, []string{"10000mAh", "20000mAh", "1m", "1.5m", "Clear", "Matte Black"}},
	{105, "Televisions", 1, "TV", 0.3, 10999, 59999, 0.10, 0.40, 0.05, 0.12, 18, false, 0.06, 1,
		[]string{"Samsung", "LG", "Sony", "TCL", "Xiaomi", "Vu", "Acer"},
		[]string{"Smart LED TV", "4K Ultra HD Smart TV", "QLED TV"}, []string{"32 inch", "43 inch", "55 inch", "65 inch"}},
	{106, "Smart Wearables", 1, "WEA", 1.5, 999, 29999, 0.30, 0.70, 0.25, 0.40, 18, false, 0.15, 1,
		[]string{"Noise", "boAt", "Fire-Boltt", "Amazfit", "Apple", "Samsung"},
		[]string{"Smartwatch", "Fitness Band"}, []string{"Black Strap", "Silver Mesh", "Rose Gold", "Blue Silicone"}},
	{201, "Men's Clothing", 2, "MEN", 8, 299, 3999, 0.30, 0.70, 0.40, 0.60, 12, true, 0.15, 3,
		[]string{"Allen Solly", "Peter England", "Louis Philippe", "Van Heusen", "Roadster", "Levi's", "Jockey"},
		[]string{"Cotton Shirt", "Slim Fit Jeans", "Polo T-Shirt", "Chinos", "Kurta"}, []string{"Navy, M", "Black, L", "White, XL", "Olive, M", "Maroon, L"}},
	{202, "Women's Ethnic Wear", 2, "ETH", 8, 399, 7999, 0.30, 0.75, 0.45, 0.65, 12, true, 0.15, 3,
		[]string{"Biba", "W", "Fabindia", "Aurelia", "Libas", "Global Desi", "Sangria"},
		[]string{"Anarkali Kurta", "Kurta Set", "Silk Saree", "Cotton Saree", "Lehenga Choli", "Dupatta"}, []string{"Mustard, M", "Teal, L", "Red, Free Size", "Pink, S", "Indigo, XL"}},
	{203, "Women's Western Wear", 2, "WES", 5, 299, 4999, 0.30, 0.75, 0.45, 0.65, 12, true, 0.15, 3,
		[]string{"Only", "Vero Moda", "H&M", "Zara", "Tokyo Talkies", "Harpa"},
		[]string{"Maxi Dress", "Crop Top", "High Rise Jeans", "Blazer", "Co-ord Set"}, []string{"Black, S", "Beige, M", "Lavender, L", "White, XS"}},
	{204, "Footwear", 2, "FTW", 6, 499, 6999, 0.20, 0.60, 0.40, 0.55, 12, true, 0.15, 2,
		[]string{"Bata", "Campus", "Puma", "Red Tape", "Woodland", "Sparx", "Nike", "Metro"},
		[]string{"Running Shoes", "Casual Sneakers", "Kolhapuri Chappals", "Formal Shoes", "Sandals"}, []string{"UK 7", "UK 8", "UK 9", "UK 10", "UK 6"}},
	{205, "Kids' Clothing", 2, "KID", 3, 199, 1999, 0.30, 0.70, 0.40, 0.60, 12, true, 0.15, 3,
		[]string{"Babyhug", "Hopscotch", "Mothercare", "Max Kids", "Gini and Jony"},
		[]string{"Cotton Frock", "T-Shirt and Shorts Set", "Ethnic Kurta Pyjama", "Winter Jacket"}, []string{"2-3Y", "4-5Y", "6-7Y", "8-9Y"}},
	{206, "Watches & Accessories", 2, "WAT", 3, 499, 14999, 0.20, 0.60, 0.35, 0.55, 18, false, 0.15, 2,
		[]string{"Titan", "Fastrack", "Casio", "Sonata", "Lavie", "Baggit"},
		[]string{"Analog Watch", "Leather Wallet", "Handbag", "Sunglasses", "Backpack"}, []string{"Brown", "Black", "Tan", "Silver"}},
	{301, "Kitchen Appliances", 3, "KAP", 3, 999, 19999, 0.15, 0.50, 0.15, 0.30, 18, false, 0.15, 1,
		[]string{"Prestige", "Philips", "Bajaj", "Butterfly", "Preethi", "Havells", "Morphy Richards"},
		[]string{"Mixer Grinder", "Induction Cooktop", "Air Fryer", "Electric Kettle", "Water Purifier"}, []string{"500W", "750W", "1200W", "Standard"}},
	{302, "Cookware", 3, "CKW", 4, 299, 4999, 0.20, 0.55, 0.30, 0.45, 12, false, 0.15, 2,
		[]string{"Prestige", "Hawkins", "Pigeon", "Milton", "Borosil", "Cello"},
		[]string{"Pressure Cooker", "Non-Stick Kadai", "Tawa", "Steel Tiffin Box", "Glass Storage Set"}, []string{"3 L", "5 L", "24 cm", "Set of 3"}},
	{303, "Home Decor", 3, "DEC", 4, 149, 2999, 0.30, 0.70, 0.40, 0.60, 12, false, 0.15, 3,
		[]string{"Home Centre", "Ellementry", "Chumbak", "Jaipur Rugs", "Urban Ladder"},
		[]string{"Brass Diya Set", "Wall Clock", "Table Lamp", "Cushion Covers", "Photo Frame"}, []string{"Set of 2", "Set of 5", "Gold", "Multicolour"}},
	{304, "Furniture", 3, "FUR", 0.5, 1999, 39999, 0.20, 0.60, 0.25, 0.40, 18, false, 0.10, 1,
		[]string{"Nilkamal", "Wakefit", "Sleepwell", "Urban Ladder", "Durian", "Godrej Interio"},
		[]string{"Engineered Wood Bed", "Ergonomic Office Chair", "Sofa Set", "Study Table", "Memory Foam Mattress"}, []string{"Queen", "King", "Walnut", "Teak Finish"}},
	{305, "Bed & Bath", 3, "BED", 3, 199, 3999, 0.30, 0.70, 0.40, 0.55, 12, false, 0.15, 2,
		[]string{"Bombay Dyeing", "Spaces", "Raymond Home", "D'Decor", "Welspun"},
		[]string{"Cotton Bedsheet", "Bath Towel Set", "Comforter", "Curtains"}, []string{"Double", "Single", "Pack of 2", "Pack of 4"}},
	{401, "Skincare", 4, "SKN", 4, 99, 1999, 0.10, 0.40, 0.35, 0.55, 18, false, 0.15, 3,
		[]string{"Mamaearth", "Himalaya", "Nivea", "Lakme", "Minimalist", "The Derma Co", "Biotique"},
		[]string{"Face Wash", "Sunscreen SPF 50", "Vitamin C Serum", "Moisturiser", "Night Cream"}, []string{"50 ml", "100 ml", "150 g", "30 ml"}},
	{402, "Haircare", 4, "HAR", 3, 99, 1499, 0.10, 0.40, 0.35, 0.55, 18, false, 0.15, 3,
		[]string{"Parachute", "Dabur", "Indulekha", "L'Oreal", "Head & Shoulders", "WOW"},
		[]string{"Hair Oil", "Anti-Dandruff Shampoo", "Conditioner", "Hair Serum"}, []string{"200 ml", "340 ml", "100 ml", "1 L"}},
	{403, "Makeup", 4, "MKP", 2, 149, 2499, 0.10, 0.40, 0.40, 0.60, 18, false, 0.15, 3,
		[]string{"Lakme", "Maybelline", "Sugar", "Nykaa Cosmetics", "Swiss Beauty"},
		[]string{"Kajal", "Matte Lipstick", "Compact Powder", "Foundation"}, []string{"Black", "Nude", "Red", "Ivory"}},
	{404, "Fragrances", 4, "FRG", 1, 249, 4999, 0.10, 0.50, 0.40, 0.60, 18, false, 0.15, 2,
		[]string{"Engage", "Fogg", "Bella Vita", "Wild Stone", "Titan Skinn"},
		[]string{"Eau de Parfum", "Body Spray", "Attar"}, []string{"100 ml", "150 ml", "20 ml"}},
	{501, "Staples", 5, "STP", 4, 49, 1499, 0.00, 0.20, 0.08, 0.15, 5, false, 0.10, 5,
		[]string{"Tata Sampann", "Aashirvaad", "Fortune", "India Gate", "Daawat", "Saffola"},
		[]string{"Whole Wheat Atta", "Basmati Rice", "Toor Dal", "Sunflower Oil", "Rock Salt"}, []string{"1 kg", "5 kg", "10 kg", "1 L"}},
	{502, "Snacks & Beverages", 5, "SNK", 4, 20, 799, 0.00, 0.25, 0.12, 0.22, 12, false, 0.10, 5,
		[]string{"Haldiram's", "Bikaji", "Britannia", "Parle", "Tata Tea", "Bru", "Amul"},
		[]string{"Bhujia Sev", "Masala Peanuts", "Cookies", "Premium Tea", "Instant Coffee", "Ghee"}, []string{"200 g", "400 g", "1 kg", "Pack of 6"}},
	{503, "Dry Fruits & Sweets", 5, "DRY", 2, 149, 2499, 0.05, 0.35, 0.15, 0.30, 12, false, 0.15, 3,
		[]string{"Happilo", "Nutraj", "Haldiram's", "Bikanervala", "Farmley"},
		[]string{"Premium Almonds", "Cashew Nuts", "Soan Papdi", "Kaju Katli Gift Box", "Dates"}, []string{"250 g", "500 g", "1 kg"}},
	{601, "Books", 6, "BOK", 4, 99, 1499, 0.05, 0.40, 0.20, 0.35, 0, false, 0.10, 2,
		[]string{"Penguin", "Rupa", "HarperCollins", "Arihant", "Westland", "Scholastic"},
		[]string{"Novel", "Exam Guide", "Biography", "Children's Storybook", "Self-Help Book"}, []string{"Paperback", "Hardcover", "English", "Hindi"}},
	{602, "Stationery", 6, "STN", 2, 49, 999, 0.05, 0.35, 0.30, 0.50, 12, false, 0.10, 5,
		[]string{"Classmate", "Camlin", "Faber-Castell", "Reynolds", "Cello"},
		[]string{"Notebook Pack", "Gel Pen Set", "Colour Pencils", "Geometry Box"}, []string{"Pack of 6", "Pack of 10", "Single", "Pack of 24"}},
	{701, "Fitness Equipment", 7, "FIT", 1.5, 299, 14999, 0.20, 0.60, 0.25, 0.40, 12, false, 0.15, 2,
		[]string{"Boldfit", "Cockatoo", "Lifelong", "Decathlon", "PowerMax"},
		[]string{"Yoga Mat", "Adjustable Dumbbells", "Treadmill", "Resistance Bands", "Gym Bag"}, []string{"6 mm", "10 kg", "Standard", "Set of 5"}},
	{702, "Cricket", 7, "CRK", 2, 299, 14999, 0.10, 0.40, 0.25, 0.40, 12, false, 0.15, 2,
		[]string{"SG", "SS", "MRF", "Kookaburra", "DSC"},
		[]string{"English Willow Bat", "Kashmir Willow Bat", "Leather Ball", "Batting Gloves", "Kit Bag"}, []string{"Full Size", "Size 6", "Pack of 2", "Youth"}},
	{703, "Sportswear", 7, "SPW", 3, 299, 3999, 0.30, 0.70, 0.40, 0.55, 12, true, 0.15, 3,
		[]string{"Puma", "Adidas", "Nivia", "HRX", "Decathlon", "Asics"},
		[]string{"Dri-Fit T-Shirt", "Track Pants", "Sports Shorts", "Running Jacket"}, []string{"Black, M", "Grey, L", "Navy, XL", "Red, S"}},
	{801, "Toys & Games", 8, "TOY", 3, 149, 4999, 0.20, 0.60, 0.30, 0.45, 12, false, 0.15, 2,
		[]string{"Funskool", "Hamleys", "Mattel", "Lego", "Hot Wheels", "Skillmatics"},
		[]string{"Board Game", "Building Blocks Set", "Remote Control Car", "Soft Toy", "Puzzle"}, []string{"Ages 3+", "Ages 6+", "Ages 8+", "Family"}},
	{802, "Baby Care", 8, "BBY", 3, 99, 2999, 0.10, 0.40, 0.20, 0.35, 12, false, 0.10, 4,
		[]string{"Pampers", "Himalaya Baby", "Johnson's", "MamyPoko", "Mee Mee", "Chicco"},
		[]string{"Diaper Pants", "Baby Wipes", "Baby Lotion", "Feeding Bottle"}, []string{"Small", "Medium", "Large", "Pack of 3"}},
}

// festival is a sale window: it lifts order volume, deepens discounts and
// anchors marketing campaigns.
type festival struct {
	Name       string
	Code       string // coupon stem
	Start, End string // inclusive DATEs in the anchor year
	Lift       float64
}

var festivals = []festival{
	{"Makar Sankranti Sale", "SANKRANTI", "2025-01-12", "2025-01-14", 1.2},
	{"Republic Day Sale", "REPUBLIC", "2025-01-17", "2025-01-20", 1.8},
	{"Valentine's Week", "LOVE", "2025-02-08", "2025-02-14", 1.2},
	{"Holi Rang Utsav", "HOLI", "2025-03-10", "2025-03-14", 1.25},
	{"Eid Celebrations", "EID", "2025-03-27", "2025-03-31", 1.15},
	{"End of Season Sale", "EOSS", "2025-07-12", "2025-07-17", 1.7},
	{"Freedom Sale", "FREEDOM", "2025-08-07", "2025-08-11", 1.5},
	{"Ganesh Chaturthi Offers", "GANESHA", "2025-08-25", "2025-08-27", 1.15},
	{"Big Festive Sale", "FESTIVE", "2025-09-23", "2025-10-02", 2.6},
	{"Diwali Dhamaka", "DIWALI", "2025-10-15", "2025-10-20", 2.2},
	{"Black Friday Sale", "BLACKFRIDAY", "2025-11-28", "2025-12-01", 1.4},
	{"Year End Sale", "YEAREND", "2025-12-20", "2025-12-31", 1.2},
}

// monthThemes name campaigns that are not tied to a festival.
var monthThemes = []string{
	"New Year Resolutions", "Spring Refresh", "Financial Year End Deals", "Summer Savings",
	"Summer Savings", "Monsoon Mega Sale", "Monsoon Mega Sale", "Back to School",
	"Festive Preview", "Festive Countdown", "Wedding Season Sale", "Winter Warmers",
}

// genericCoupons are coupons not tied to a campaign, with their percent off.
var genericCoupons = []struct {
	Code string
	Pct  int
}{
	{"WELCOME10", 10}, {"SAVE5", 5}, {"UPIFEST", 5}, {"FLAT15", 15}, {"BANKOFFER10", 10},
}
